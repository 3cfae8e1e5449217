// ABOUTME: WS topic subscriptions over a real gateway (ws.md §6, §8): agent replay and exact resume (deep and across a
// ABOUTME: restart), in-flight catch-up, the slow-consumer close 4008 with a lossless resume, presence and approvals.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connectAgent, createCleanups, startGateway, waitUntil } from "../e2e/support/conversation-e2e.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { WsClient, WsSchema, seqs, type Frame } from "./support/ws-client.js";
import { parseExposition, valueOf } from "../support/prom-text.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function open(httpUrl: string): Promise<WsClient> {
  const client = await WsClient.open(httpUrl, await WsSchema.fetch(httpUrl));
  cleanups.add(() => client.close());
  await client.hello();
  return client;
}

const ledgerIds = (c: WsClient, topic: string) =>
  c.frames.filter((f) => f.type === "event" && f.event === "ledger" && f.topic === topic).map((f) => f.payload.event.id as string);

async function allEventIds(c: WsClient, key: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const res = await c.call("events.get", { conversation_key: key, limit: 500, ...(cursor ? { cursor } : {}) });
    ids.push(...(res.payload.events as Frame[]).map((e) => e.id as string));
    if (!res.payload.has_more) return ids;
    cursor = res.payload.next_cursor as string;
  }
}

async function seedRows(gw: TestGateway, key: string, n: number): Promise<void> {
  const { ledger } = gw.gateway.domain;
  for (let i = 0; i < n; i += 1) {
    await ledger.append({
      conversationKey: key,
      threadId: null,
      requestId: null,
      direction: "inbound_to_agent",
      author: "seed",
      type: "message",
      text: `row ${i}`,
      actorPrincipalId: null,
    });
  }
}

describe("agent topics", () => {
  it("replays the newest 50, resumes exactly after since_event_id at depth 10 000, and reports an unknown id", async () => {
    const gw = await startGateway(cleanups);
    await seedRows(gw, "deep", 10_050);
    const c = await open(gw.httpUrl);
    const res = await c.call("subscribe", { topic: "agent:deep" });
    expect(res.payload).toEqual({ topic: "agent:deep" });
    const synced = await c.waitFor((f) => f.event === "synced");
    expect(synced.payload).toMatchObject({ topic: "agent:deep", replayed: 50, resumed: false });
    const all = await allEventIds(c, "deep");
    expect(ledgerIds(c, "agent:deep")).toEqual(all.slice(-50));
    expect(synced.payload.last_event_id).toBe(all.at(-1));
    expect(c.frames.filter((f) => f.event === "ledger").every((f) => f.payload.replay === true)).toBe(true);
    expect(c.frames.indexOf(res)).toBeLessThan(c.frames.findIndex((f) => f.event === "ledger"));

    const deep = await open(gw.httpUrl);
    deep.request("subscribe", { topic: "agent:deep", since_event_id: all[49] });
    const deepSynced = await deep.waitFor((f) => f.event === "synced", 60_000);
    expect(deepSynced.payload).toMatchObject({ replayed: 10_000, resumed: true, last_event_id: all.at(-1) });
    expect(ledgerIds(deep, "agent:deep")).toEqual(all.slice(50));

    const unknown = await open(gw.httpUrl);
    unknown.request("subscribe", { topic: "agent:deep", since_event_id: "no-such-event" });
    expect((await unknown.waitFor((f) => f.event === "synced")).payload).toMatchObject({ replayed: 50, resumed: false });
    for (const client of [c, deep, unknown]) {
      expect(client.validationErrors).toEqual([]);
      expect(seqs(client)).toEqual(seqs(client).map((_s, i) => i + 1));
    }
  }, 120_000);

  it("resumes across a gateway restart on the same database with no gap and no duplicate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coven-ws-restart-"));
    cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startGateway(cleanups, { dir });
    const { agent } = await connectAgent(cleanups, first.grpcAddr, "keeper");
    const c1 = await open(first.httpUrl);
    await c1.call("subscribe", { topic: "agent:keeper" });
    await c1.waitFor((f) => f.event === "synced");
    const res = await c1.call("send", { content: "before restart", idempotency_key: "r1", agent_id: "keeper" });
    agent.respond(res.payload.request_id as string, { text: "answer one" });
    agent.respond(res.payload.request_id as string, { done: { full_response: "" } });
    await c1.waitFor((f) => f.event === "ledger" && f.payload.event.author === "agent:keeper");
    const seen = ledgerIds(c1, "agent:keeper");
    const resumeFrom = seen.at(-1) as string;
    await c1.close();
    agent.close();
    await first.stop();

    const second = await startGateway(cleanups, { dir });
    const { agent: again } = await connectAgent(cleanups, second.grpcAddr, "keeper");
    const writer = await open(second.httpUrl);
    const res2 = await writer.call("send", { content: "after restart", idempotency_key: "r2", agent_id: "keeper" });
    again.respond(res2.payload.request_id as string, { done: { full_response: "answer two" } });
    await writer.waitFor((f) => f.event === "run" && f.payload.kind === "done");

    const c2 = await open(second.httpUrl);
    await c2.call("subscribe", { topic: "agent:keeper", since_event_id: resumeFrom });
    const synced = await c2.waitFor((f) => f.event === "synced");
    expect(synced.payload.resumed).toBe(true);
    const union = [...seen, ...ledgerIds(c2, "agent:keeper")];
    expect(new Set(union).size).toBe(union.length);
    expect(union).toEqual(await allEventIds(c2, "keeper"));
    expect(ledgerIds(c2, "agent:keeper")).toHaveLength(2);
    expect(c2.validationErrors).toEqual([]);
  });

  it("catches up an in-flight turn (joined text) and its pending approval before synced, then goes live without duplicates", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "busy");
    const sender = await open(gw.httpUrl);
    const res = await sender.call("send", { content: "go", idempotency_key: "b", agent_id: "busy" });
    const turn = res.payload.request_id as string;
    await agent.message(1);
    agent.respond(turn, { text: "Hel" });
    agent.respond(turn, { text: "lo" });
    agent.respond(turn, { tool_approval_request: { id: "t1", name: "bash", input_json: "{}" } });
    await sender.waitFor((f) => f.event === "run" && f.payload.kind === "tool_approval");

    const c = await open(gw.httpUrl);
    await c.call("subscribe", { topic: "agent:busy" });
    const synced = await c.waitFor((f) => f.event === "synced");
    const before = c.frames.slice(0, c.frames.indexOf(synced)).filter((f) => f.event === "activity");
    expect(before.map((f) => [f.payload.kind, f.payload.data])).toEqual([
      ["text", { text: "Hello" }],
      ["tool_approval", { id: "t1", input_json: "{}", name: "bash", request_id: turn }],
    ]);
    expect(before.every((f) => f.payload.replay === true)).toBe(true);
    agent.respond(turn, { text: " world" });
    agent.respond(turn, { done: { full_response: "" } });
    const done = await c.waitFor((f) => f.event === "activity" && f.payload.kind === "done");
    expect(done.payload.replay).toBeUndefined();
    const after = c.frames.slice(c.frames.indexOf(synced)).filter((f) => f.event === "activity");
    expect(after.map((f) => f.payload.kind)).toEqual(["text", "done"]);
    expect(c.validationErrors).toEqual([]);
  });
});

describe("slow topic subscribers", () => {
  it("closes 4008 `slow consumer`, counts it, and a resume with since_event_id misses nothing", async () => {
    const gw = await startGateway(cleanups, { limits: { subscriberQueue: 64, wsMaxBufferedBytes: 16 * 1024, wsMaxPayloadBytes: 16 * 1024 } });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "flood");
    const slow = await open(gw.httpUrl);
    await slow.call("subscribe", { topic: "agent:flood" });
    await slow.waitFor((f) => f.event === "synced");
    const sender = await open(gw.httpUrl);
    const first = await sender.call("send", { content: "first", idempotency_key: "f1", agent_id: "flood" });
    agent.respond(first.payload.request_id as string, { done: { full_response: "first answer" } });
    await slow.waitFor((f) => f.event === "ledger" && f.payload.event.author === "agent:flood");
    const received = ledgerIds(slow, "agent:flood");

    slow.socket.pause();
    const res = await sender.call("send", { content: "flood me", idempotency_key: "f2", agent_id: "flood" });
    const turn = res.payload.request_id as string;
    // Enough to fill the loopback socket buffers (several MB) and then the 64-message topic queue.
    for (let i = 0; i < 4_000; i += 1) agent.respond(turn, { text: `${i}:${"w".repeat(4096)}` });
    agent.respond(turn, { done: { full_response: "" } });
    await waitUntil(() => gw.gateway.ws.counters.subscriberOverflows === 1, "the slow subscriber to overflow", 60_000);
    slow.socket.resume();
    // The close frame sits behind what the socket still buffers; a reader that cannot drain it within the 1 s
    // close grace sees the socket destroyed instead (1006).
    const closed = await slow.closedPromise;
    expect([JSON.stringify({ code: 4008, reason: "slow consumer" }), JSON.stringify({ code: 1006, reason: "" })]).toContain(JSON.stringify(closed));
    await sender.waitFor((f) => f.event === "run" && f.payload.request_id === turn && f.payload.kind === "done", 60_000);

    const resumeFrom = ledgerIds(slow, "agent:flood").at(-1) ?? received.at(-1);
    const back = await open(gw.httpUrl);
    await back.call("subscribe", { topic: "agent:flood", since_event_id: resumeFrom });
    await back.waitFor((f) => f.event === "synced");
    const union = [...ledgerIds(slow, "agent:flood"), ...ledgerIds(back, "agent:flood")];
    expect(new Set(union).size).toBe(union.length);
    expect(union).toEqual(await allEventIds(back, "flood"));
    expect(back.validationErrors).toEqual([]);
    const metrics = parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
    expect(valueOf(metrics, "coven_subscriber_overflows_total", { kind: "ws" })).toBe(1);
    expect(valueOf(metrics, "coven_ws_closes_total", { code: "4008" }) + valueOf(metrics, "coven_ws_closes_total", { code: "1006" })).toBe(1);
  }, 90_000);
});

describe("presence, approvals, unsubscribe", () => {
  it("presence snapshot and connected/disconnected; approvals raised/resolved; unsubscribe stops delivery; seq stays gap-free", async () => {
    const gw = await startGateway(cleanups);
    const c = await open(gw.httpUrl);
    const presence = await c.call("subscribe", { topic: "presence" });
    expect(presence.payload).toEqual({ topic: "presence", agents: [] });
    const approvals = await c.call("subscribe", { topic: "approvals" });
    expect(approvals.payload).toEqual({ topic: "approvals", approvals: [] });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "visible");
    const connected = await c.waitFor((f) => f.event === "presence" && f.payload.kind === "connected");
    expect(connected.topic).toBe("presence");
    expect(connected.payload.agent).toMatchObject({ id: "visible", state: "idle" });

    const res = await c.call("send", { content: "need approval", idempotency_key: "ap", agent_id: "visible" });
    const turn = res.payload.request_id as string;
    await agent.message(1);
    agent.respond(turn, { tool_approval_request: { id: "t9", name: "bash", input_json: "{\"cmd\":\"ls\"}" } });
    const raised = await c.waitFor((f) => f.event === "approval" && f.payload.kind === "raised");
    expect(raised.payload.approval).toMatchObject({ agent_id: "visible", request_id: turn, tool_id: "t9", tool_name: "bash" });
    const approve = await c.call("tools.approve", { agent_id: "visible", tool_id: "t9", approved: true });
    expect(approve.payload).toEqual({ approved: true, success: true });
    const resolved = await c.waitFor((f) => f.event === "approval" && f.payload.kind === "resolved");
    expect(resolved.payload).toMatchObject({ agent_id: "visible", tool_id: "t9", status: "approved", resolved_by: "anonymous" });
    agent.respond(turn, { done: { full_response: "ok" } });
    await c.waitFor((f) => f.event === "run" && f.payload.kind === "done");

    expect((await c.call("unsubscribe", { topic: "presence" })).payload).toEqual({ topic: "presence" });
    // A second subscriber sees the disconnect; a ping round trip on `c` after that orders after any frame sent to it.
    const watcher = await open(gw.httpUrl);
    await watcher.call("subscribe", { topic: "presence" });
    const mark = c.frames.length;
    agent.close();
    await watcher.waitFor((f) => f.event === "presence" && f.payload.kind === "disconnected");
    await c.call("ping");
    expect(c.frames.slice(mark).filter((f) => f.event === "presence")).toEqual([]);
    expect(c.validationErrors).toEqual([]);
    expect(seqs(c)).toEqual(seqs(c).map((_s, i) => i + 1));
  });
});

describe("questions", () => {
  it("a `questions` subscriber is an ask_user recipient: raised, answered over WS, resolved; an agent topic also counts", async () => {
    const gw = await startGateway(cleanups);
    const router = gw.gateway.domain.questions;
    const c = await open(gw.httpUrl);
    expect(router.recipientCount("asker")).toBe(0);
    expect((await c.call("subscribe", { topic: "questions" })).payload).toEqual({ topic: "questions", questions: [] });
    expect(router.recipientCount("asker")).toBe(1);
    const asked = router.ask({ agentId: "asker", question: "Which?", options: [{ label: "a" }, { label: "b" }], multiSelect: false });
    const raised = await c.waitFor((f) => f.event === "question" && f.payload.kind === "raised");
    expect(raised.payload.question).toMatchObject({ agent_id: "asker", question: "Which?", multi_select: false });
    const questionId = raised.payload.question.question_id as string;
    const bad = await c.call("questions.answer", { agent_id: "asker", question_id: questionId, selected: ["zzz"] });
    expect(bad.error).toEqual({ code: "INVALID_ARGUMENT", message: 'unknown option label: "zzz"' });
    const answer = await c.call("questions.answer", { agent_id: "asker", question_id: questionId, selected: ["b"] });
    expect(answer.payload).toEqual({ success: true });
    expect(await asked).toMatchObject({ answered: true, selected: ["b"] });
    const resolved = await c.waitFor((f) => f.event === "question" && f.payload.kind === "resolved");
    expect(resolved.payload).toEqual({ kind: "resolved", agent_id: "asker", question_id: questionId, status: "answered" });
    await c.call("unsubscribe", { topic: "questions" });
    expect(router.recipientCount("asker")).toBe(0);
    await c.call("subscribe", { topic: "agent:asker" });
    expect(router.recipientCount("asker")).toBe(1);
    expect(c.validationErrors).toEqual([]);
    expect(seqs(c)).toEqual(seqs(c).map((_s, i) => i + 1));
  });
});

describe("presence changes", () => {
  it("announces connected, each idle/busy `state` change, and `disconnected` with the stream close reason", async () => {
    const gw = await startGateway(cleanups);
    const c = await open(gw.httpUrl);
    await c.call("subscribe", { topic: "presence" });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "mover");
    await c.waitFor((f) => f.event === "presence" && f.payload.kind === "connected");
    const res = await c.call("send", { content: "go", idempotency_key: "m", agent_id: "mover" });
    const turn = res.payload.request_id as string;
    await agent.message(1);
    const busy = await c.waitFor((f) => f.event === "presence" && f.payload.kind === "state");
    expect(busy.payload).toEqual({ kind: "state", agent: expect.objectContaining({ id: "mover", state: "busy" }) });
    agent.respond(turn, { done: { full_response: "ok" } });
    await c.waitFor((f) => f.event === "presence" && f.payload.kind === "state" && f.payload.agent.state === "idle");
    agent.close();
    const gone = await c.waitFor((f) => f.event === "presence" && f.payload.kind === "disconnected");
    expect(gone.payload).toEqual({ kind: "disconnected", agent: expect.objectContaining({ id: "mover", state: "offline" }), reason: "agent_end" });
    const presence = c.frames.filter((f) => f.event === "presence").map((f) => [f.payload.kind, f.payload.agent.state]);
    expect(presence).toEqual([
      ["connected", "idle"],
      ["state", "busy"],
      ["state", "idle"],
      ["disconnected", "offline"],
    ]);
    expect(c.validationErrors).toEqual([]);
  });

  it("reports `heartbeat_timeout` for an agent that stops heartbeating past agents.heartbeat_timeout", async () => {
    const gw = await startGateway(cleanups, { heartbeatTimeoutMs: 300 });
    const c = await open(gw.httpUrl);
    await c.call("subscribe", { topic: "presence" });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "silent");
    // Heartbeat supervision starts with the first heartbeat; then the agent goes quiet.
    agent.stream.send({ heartbeat: { timestamp_ms: String(Date.now()) } });
    const gone = await c.waitFor((f) => f.event === "presence" && f.payload.kind === "disconnected");
    expect(gone.payload).toMatchObject({ agent: { id: "silent", state: "offline" }, reason: "heartbeat_timeout" });
    expect(c.validationErrors).toEqual([]);
  });
});
