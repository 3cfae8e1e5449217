// ABOUTME: ClientService.StreamEvents over loopback gRPC with independent clients and real agents: every variant,
// ABOUTME: exact resume (mid-turn, across a restart), slow consumers, pending prompts, revocation, shutdown, no leaks.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { RESUME_TRAILER } from "../../src/rpc/client-conversation-handlers.js";
import { createThreadRepository } from "../../src/store/thread-repository.js";
import { bearerMetadata } from "../support/proto-client.js";
import {
  conversationClient,
  EventStreamReader,
  RFC3339_MS,
  ScriptedAgent,
  unary,
  type EventFrame,
  type StreamFrame,
} from "./support/conversation-clients.js";
import { startConversationRpc, type ConversationRpcHarness, type ConversationRpcOptions } from "./support/conversation-rpc-harness.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function harness(options: ConversationRpcOptions = {}): Promise<ConversationRpcHarness> {
  const h = await startConversationRpc(options);
  cleanups.push(() => h.stop());
  return h;
}

function client(h: ConversationRpcHarness): ReturnType<typeof conversationClient> {
  const c = conversationClient(h.addr);
  cleanups.push(() => c.close());
  return c;
}

async function agent(h: ConversationRpcHarness, agentId: string, options: Parameters<typeof ScriptedAgent.connect>[2] = {}): Promise<ScriptedAgent> {
  const a = await ScriptedAgent.connect(h.addr, agentId, options);
  cleanups.push(() => a.close());
  return a;
}

/** Opens StreamEvents and waits for its headers (the hub subscription exists from then on). */
async function subscribe(c: ReturnType<typeof conversationClient>, request: { conversation_key: string; since_event_id?: string }, metadata?: grpc.Metadata): Promise<EventStreamReader> {
  const reader = new EventStreamReader(c, request, metadata);
  cleanups.push(() => {
    reader.call.cancel();
  });
  await reader.headers;
  return reader;
}

function label(frame: StreamFrame): string {
  if (frame.payload === "event") {
    const e = frame.event as EventFrame;
    return `event:${e.type}:${e.text ?? ""}`;
  }
  if (frame.payload === "text" || frame.payload === "thinking") return `${frame.payload}:${(frame[frame.payload] as { content: string }).content}`;
  return frame.payload;
}

async function send(c: ReturnType<typeof conversationClient>, conversationKey: string, content: string, key = `${content}-${Math.random()}`): Promise<string> {
  const result = await unary<{ status: string; message_id: string }>(c, "SendMessage", { idempotency_key: key, conversation_key: conversationKey, content });
  if (!result.ok) throw new Error(`SendMessage failed: ${result.details}`);
  return result.response.message_id;
}

async function ledgerIds(h: ConversationRpcHarness, conversationKey: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await h.ledger.listConversation({ conversationKey, limit: 500, ...(cursor ? { afterSeq: Number(Buffer.from(cursor, "base64").toString().slice(4)) } : {}) });
    ids.push(...page.events.map((e) => e.eventId));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("StreamEvents payloads", () => {
  it("emits every ClientStreamEvent variant, ledger row before its transient event, with RFC 3339 timestamps", async () => {
    const h = await harness();
    const a = await agent(h, "kinds");
    const c = client(h);
    const reader = await subscribe(c, { conversation_key: "kinds" });
    await send(c, "kinds", "go");
    const first = await a.message(1);
    const id = first.request_id as string;
    a.respond(id, { thinking: "hmm" });
    a.respond(id, { tool_use: { id: "t1", name: "bash", input_json: "{\"cmd\":\"ls\"}" } });
    a.respond(id, { tool_state: { id: "t1", state: "TOOL_STATE_RUNNING", detail: "started" } });
    a.respond(id, { tool_result: { id: "t1", output: "a.txt", is_error: true } });
    a.respond(id, { usage: { input_tokens: 10, output_tokens: 5, cache_read_tokens: 3, cache_write_tokens: 2, thinking_tokens: 1 } });
    a.respond(id, { tool_approval_request: { id: "t2", name: "write", input_json: "{}" } });
    a.respond(id, { text: "Hello, " });
    a.respond(id, { text: "world" });
    a.respond(id, { done: { full_response: "ignored" } });
    await reader.next("done");
    const asking = h.questions.ask({ agentId: "kinds", question: "Sure?", options: [{ label: "yes" }], multiSelect: false, timeoutSeconds: 30 });
    asking.catch(() => {});
    await reader.next("user_question");
    await send(c, "kinds", "again");
    const second = await a.message(2);
    a.respond(second.request_id as string, { error: "model overloaded" });
    await reader.next("error");

    expect(reader.frames.map(label)).toEqual([
      "event:message:go",
      "thinking:hmm",
      "event:tool_call:{\"name\":\"bash\",\"id\":\"t1\",\"input\":{\"cmd\":\"ls\"}}",
      "tool_use",
      "tool_state",
      "event:tool_result:{\"id\":\"t1\",\"output\":\"a.txt\",\"is_error\":true}",
      "tool_result",
      "usage",
      "tool_approval",
      "text:Hello, ",
      "text:world",
      "event:message:Hello, world",
      "done",
      "user_question",
      "event:message:again",
      "event:error:model overloaded",
      "error",
    ]);
    const by = (payload: string) => reader.frames.find((f) => f.payload === payload)!;
    expect(by("tool_use").tool_use).toEqual({ id: "t1", name: "bash", input_json: "{\"cmd\":\"ls\"}" });
    expect(by("tool_state").tool_state).toEqual({ id: "t1", state: "TOOL_STATE_RUNNING", detail: "started" });
    expect(by("tool_result").tool_result).toEqual({ id: "t1", output: "a.txt", is_error: true });
    expect(by("usage").usage).toEqual({ input_tokens: 10, output_tokens: 5, cache_read_tokens: 3, cache_write_tokens: 2, thinking_tokens: 1 });
    expect(by("tool_approval").tool_approval).toEqual({ agent_id: "kinds", request_id: id, tool_id: "t2", tool_name: "write", input_json: "{}" });
    expect(by("done").done).toEqual({ full_response: "Hello, world" });
    expect(by("error").error).toEqual({ message: "model overloaded", recoverable: false });
    expect(by("user_question").user_question).toMatchObject({ agent_id: "kinds", question: "Sure?", options: [{ label: "yes" }], timeout_seconds: 30 });
    const final = reader.events.find((e) => e.text === "Hello, world")!;
    expect(final).toMatchObject({ conversation_key: "kinds", direction: "outbound_from_agent", author: "agent:kinds", type: "message" });
    expect(final.actor_principal_id).toBe("anonymous");
    for (const frame of reader.frames) {
      expect(frame.conversation_key).toBe("kinds");
      expect(frame.timestamp).toMatch(RFC3339_MS);
    }
    // Ledger timestamps are the event's own.
    const stored = await h.ledger.findByEventId(final.id);
    expect(reader.frames.find((f) => f.payload === "event" && (f.event as EventFrame).id === final.id)!.timestamp).toBe(stored!.timestamp);
  });

  it("rejects an empty conversation_key with INVALID_ARGUMENT before any header", async () => {
    const h = await harness();
    const reader = new EventStreamReader(client(h), { conversation_key: "" });
    const status = await reader.status;
    expect({ code: status.code, details: status.details }).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: "conversation_key required" });
    expect(reader.frames).toEqual([]);
  });

  it("replays the newest 50 without since_event_id, or with an unknown or foreign one", async () => {
    const h = await harness();
    const threads = createThreadRepository(h.store.db);
    const thread = await threads.insert({ id: crypto.randomUUID(), frontendName: "client", externalId: "deep", agentId: "deep", now: new Date().toISOString() });
    const other = await threads.insert({ id: crypto.randomUUID(), frontendName: "client", externalId: "else", agentId: "else", now: new Date().toISOString() });
    for (let i = 1; i <= 60; i += 1) {
      await h.ledger.append({ conversationKey: "deep", threadId: thread!.id, direction: "inbound_to_agent", author: "client", type: "message", text: `m${i}` });
    }
    const foreign = await h.ledger.append({ conversationKey: "else", threadId: other!.id, direction: "inbound_to_agent", author: "client", type: "message", text: "x" });
    const c = client(h);
    const newest = Array.from({ length: 50 }, (_, i) => `m${i + 11}`);
    for (const since of [undefined, "", crypto.randomUUID(), foreign.eventId]) {
      const reader = await subscribe(c, { conversation_key: "deep", ...(since === undefined ? {} : { since_event_id: since }) });
      await reader.until((f) => f.length >= 50, "replay");
      expect(reader.events.map((e) => e.text)).toEqual(newest);
      await reader.cancel();
    }
    // With a known id the resume is exact, at any depth.
    const all = await h.ledger.listConversation({ conversationKey: "deep", limit: 500 });
    const reader = await subscribe(c, { conversation_key: "deep", since_event_id: all.events[2]!.eventId });
    await reader.until((f) => f.length >= 57, "resume");
    expect(reader.events.map((e) => e.text)).toEqual(Array.from({ length: 57 }, (_, i) => `m${i + 4}`));
  });
});

describe("StreamEvents resume", () => {
  it("a subscriber that disconnects mid-turn and resumes with since_event_id loses and repeats no ledger event", async () => {
    const h = await harness();
    const a = await agent(h, "resume");
    const c = client(h);
    const first = await subscribe(c, { conversation_key: "resume" });
    await send(c, "resume", "start");
    const requestId = (await a.message(1)).request_id as string;
    a.respond(requestId, { tool_use: { id: "t1", name: "read", input_json: "{}" } });
    a.respond(requestId, { tool_result: { id: "t1", output: "one", is_error: false } });
    a.respond(requestId, { text: "partial " });
    await first.next("text");
    await first.cancel();
    await waitUntil(() => h.streams.liveStreams === 0 && h.hub.subscriberCount("resume") === 0, "the first subscription to close");
    const seen = first.events.map((e) => e.id);

    // While nobody listens, the turn goes on.
    a.respond(requestId, { tool_use: { id: "t2", name: "read", input_json: "{}" } });
    a.respond(requestId, { tool_result: { id: "t2", output: "two", is_error: false } });
    await waitUntil(async () => (await ledgerIds(h, "resume")).length === 5, "the turn to go on");

    const second = await subscribe(c, { conversation_key: "resume", since_event_id: seen[seen.length - 1]! });
    await second.until((f) => f.length === 7, "the missed rows and the catch-up");
    // Replay gives the missed rows; the in-flight catch-up then repeats the running turn's transient events.
    expect(second.frames.map(label)).toEqual([
      "event:tool_call:{\"name\":\"read\",\"id\":\"t2\",\"input\":{}}",
      "event:tool_result:{\"id\":\"t2\",\"output\":\"two\",\"is_error\":false}",
      "tool_use",
      "tool_result",
      "text:partial ",
      "tool_use",
      "tool_result",
    ]);
    a.respond(requestId, { text: "end" });
    a.respond(requestId, { done: {} });
    await second.next("done");
    expect(second.frames.find((f) => f.payload === "done")!.done).toEqual({ full_response: "partial end" });

    const received = [...seen, ...second.events.map((e) => e.id)];
    expect(new Set(received).size).toBe(received.length);
    expect(received).toEqual(await ledgerIds(h, "resume"));
  });

  it("resumes exactly across a restart of the store and the server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coven-restart-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const before = await startConversationRpc({ dir });
    cleanups.push(() => before.stop());
    const a1 = await ScriptedAgent.connect(before.addr, "durable");
    cleanups.push(() => a1.close());
    const c1 = conversationClient(before.addr);
    cleanups.push(() => c1.close());
    const first = await subscribe(c1, { conversation_key: "durable" });
    await send(c1, "durable", "one");
    const requestId = (await a1.message(1)).request_id as string;
    a1.respond(requestId, { tool_use: { id: "t1", name: "read", input_json: "{}" } });
    await first.next("tool_use");
    await first.cancel();
    a1.respond(requestId, { tool_result: { id: "t1", output: "ok", is_error: false } });
    a1.respond(requestId, { text: "half" });
    await waitUntil(async () => (await ledgerIds(before, "durable")).length === 3, "the tool_result row");
    // The stop ends the turn: partial flush and `gateway shutting down`, both persisted.
    await before.stop();
    const seen = first.events.map((e) => e.id);

    const after = await startConversationRpc({ dir });
    cleanups.push(() => after.stop());
    const a2 = await agent(after, "durable");
    const c2 = client(after);
    const second = await subscribe(c2, { conversation_key: "durable", since_event_id: seen[seen.length - 1]! });
    await second.until((f) => f.length >= 3, "the rows written before the restart");
    expect(second.frames.map(label)).toEqual([
      "event:tool_result:{\"id\":\"t1\",\"output\":\"ok\",\"is_error\":false}",
      "event:message:half",
      "event:error:gateway shutting down",
    ]);
    await send(c2, "durable", "two");
    a2.respond((await a2.message(1)).request_id as string, { done: { full_response: "fine" } });
    await second.next("done");
    const received = [...seen, ...second.events.map((e) => e.id)];
    expect(new Set(received).size).toBe(received.length);
    expect(received).toEqual(await ledgerIds(after, "durable"));
  });

  it("re-emits a still-pending approval to a reconnecting client, which answers it with ApproveTool", async () => {
    const h = await harness();
    const a = await agent(h, "approver");
    const c = client(h);
    const first = await subscribe(c, { conversation_key: "approver" });
    await send(c, "approver", "delete it");
    const requestId = (await a.message(1)).request_id as string;
    a.respond(requestId, { tool_approval_request: { id: "rm", name: "bash", input_json: "{\"cmd\":\"rm x\"}" } });
    await first.next("tool_approval");
    await first.cancel();

    const second = await subscribe(c, { conversation_key: "approver", since_event_id: first.events.at(-1)!.id });
    const prompt = await second.next("tool_approval");
    expect(prompt.tool_approval).toEqual({ agent_id: "approver", request_id: requestId, tool_id: "rm", tool_name: "bash", input_json: "{\"cmd\":\"rm x\"}" });
    expect((await unary(c, "ApproveTool", { agent_id: "approver", tool_id: "rm", approved: false })).response).toEqual({ success: true });
    expect((await a.stream.next("tool_approval")).tool_approval).toEqual({ id: "rm", approved: false, approve_all: false });
    a.respond(requestId, { tool_result: { id: "rm", output: "denied", is_error: true } });
    a.respond(requestId, { done: { full_response: "skipped" } });
    await second.next("done");
    expect(second.frames.filter((f) => f.payload === "tool_approval")).toHaveLength(1);
  });
});

describe("StreamEvents flow control and lifecycle", () => {
  it("disconnects a slow subscriber with a resumable RESOURCE_EXHAUSTED while another keeps streaming", async () => {
    const h = await harness({ stream: { maxQueue: 8 } });
    const a = await agent(h, "busy");
    const c = client(h);
    const fast = await subscribe(c, { conversation_key: "busy" });
    const slowClient = client(h);
    const slow = await subscribe(slowClient, { conversation_key: "busy" });
    slow.call.pause();
    await send(c, "busy", "flood");
    const requestId = (await a.message(1)).request_id as string;
    const chunk = "x".repeat(16 * 1024);
    const chunks = 120;
    for (let i = 0; i < chunks; i += 1) {
      a.respond(requestId, { text: `${i}:${chunk}` });
      await fast.until((f) => f.filter((x) => x.payload === "text").length === i + 1, `chunk ${i}`);
    }
    await waitUntil(() => h.hub.counters.subscriberOverflows === 1, "the slow subscriber to overflow");
    a.respond(requestId, { done: {} });
    await fast.next("done");
    expect(fast.frames.filter((f) => f.payload === "text")).toHaveLength(chunks);

    slow.call.resume();
    const status = await slow.status;
    expect({ code: status.code, details: status.details }).toEqual({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: "subscriber too slow; resume with since_event_id",
    });
    const resumeFrom = status.metadata.get(RESUME_TRAILER)[0] as string;
    expect(resumeFrom).toBe(slow.events.at(-1)!.id);
    expect(slow.frames.filter((f) => f.payload === "text").length).toBeLessThan(chunks);

    const resumed = await subscribe(slowClient, { conversation_key: "busy", since_event_id: resumeFrom });
    await resumed.next("event", (f) => (f.event as EventFrame).author === "agent:busy");
    const received = [...slow.events, ...resumed.events].map((e) => e.id);
    expect(received).toEqual(await ledgerIds(h, "busy"));
    // The fast subscriber is still live for the next turn.
    await send(c, "busy", "next");
    await fast.next("event", (f) => (f.event as EventFrame).text === "next");
  });

  it("closes the engine and the hub subscription when the client cancels", async () => {
    const h = await harness();
    const c = client(h);
    const reader = await subscribe(c, { conversation_key: "gone" });
    expect(h.streams.liveStreams).toBe(1);
    expect(h.hub.subscriberCount("gone")).toBe(1);
    const status = await reader.cancel();
    expect(status.code).toBe(grpc.status.CANCELLED);
    await waitUntil(() => h.streams.liveStreams === 0 && h.hub.subscriberCount("gone") === 0, "the subscription to close");
  });

  it("ends with OK after the idle timeout", async () => {
    const h = await harness({ stream: { idleTimeoutMs: 100 } });
    const reader = await subscribe(client(h), { conversation_key: "quiet" });
    const status = await reader.status;
    expect({ code: status.code, details: status.details }).toEqual({ code: grpc.status.OK, details: "OK" });
    expect(h.hub.subscriberCount("quiet")).toBe(0);
  });

  it("ends live streams with UNAVAILABLE 'gateway shutting down' and the resume point when the gateway stops", async () => {
    const h = await startConversationRpc();
    cleanups.push(() => h.stop());
    const a = await agent(h, "stopping");
    const c = client(h);
    const reader = await subscribe(c, { conversation_key: "stopping" });
    await send(c, "stopping", "hi");
    a.respond((await a.message(1)).request_id as string, { text: "mid-turn" });
    await reader.next("text");
    await h.stop();
    const status = await reader.status;
    expect({ code: status.code, details: status.details }).toEqual({ code: grpc.status.UNAVAILABLE, details: "gateway shutting down" });
    // The turn's terminal rows were streamed before the end; the trailer names the last one.
    expect(reader.frames.map(label).slice(-3)).toEqual(["event:message:mid-turn", "event:error:gateway shutting down", "error"]);
    expect(status.metadata.get(RESUME_TRAILER)).toEqual([reader.events.at(-1)!.id]);
  });

  it("ends a revoked caller's streams with PERMISSION_DENIED and a deleted one's with UNAUTHENTICATED", async () => {
    const h = await harness({ isAuthEnabled: true });
    const admin = await h.seedPrincipal({ roles: ["admin"] });
    const revoked = await h.seedPrincipal();
    const deleted = await h.seedPrincipal();
    const bystander = await h.seedPrincipal();
    const c = client(h);
    const open = async (id: string) => subscribe(c, { conversation_key: "watched" }, bearerMetadata(await h.tokenFor(id)));
    const [r1, r2, r3] = [await open(revoked), await open(deleted), await open(bystander)];
    await h.identity.service.revokePrincipal(admin, revoked);
    await h.identity.service.deletePrincipal(admin, deleted);
    const s1 = await r1.status;
    const s2 = await r2.status;
    expect({ code: s1.code, details: s1.details }).toEqual({ code: grpc.status.PERMISSION_DENIED, details: "principal has been revoked" });
    expect({ code: s2.code, details: s2.details }).toEqual({ code: grpc.status.UNAUTHENTICATED, details: "principal not found" });
    expect(h.streams.liveStreams).toBe(1);
    await h.ledger.append({ conversationKey: "watched", direction: "inbound_to_agent", author: "client", type: "system", text: "still here" });
    h.hub.publish({ kind: "ledger", conversationKey: "watched", requestId: null, event: (await h.ledger.newestInConversation("watched", 1))[0]! });
    await r3.next("event");
  });
});
