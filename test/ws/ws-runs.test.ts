// ABOUTME: WS `send` runs over a real gateway and a scripted gRPC agent (ws.md §3.2, §5, §8, §9): ordering, terminals,
// ABOUTME: concurrency without crosstalk, idempotency, backpressure on a paused reader, write stalls and shutdown.
import { afterEach, describe, expect, it } from "vitest";
import { connectAgent, createCleanups, startGateway, waitUntil } from "../e2e/support/conversation-e2e.js";
import type { ScriptedAgent } from "../rpc/support/conversation-clients.js";
import { postSse } from "../support/sse-client.js";
import { WsClient, WsSchema, seqs, type Frame } from "./support/ws-client.js";
import { parseExposition, valueOf } from "../support/prom-text.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function open(httpUrl: string): Promise<WsClient> {
  const client = await WsClient.open(httpUrl, await WsSchema.fetch(httpUrl), { origin: undefined });
  cleanups.add(() => client.close());
  await client.hello();
  return client;
}

const kinds = (frames: Frame[]) => frames.map((f) => f.payload.kind as string);

describe("send", () => {
  it("answers res before started, streams the agent's events as run events, and ends with exactly one done", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "echo");
    const c = await open(gw.httpUrl);
    const res = await c.call("send", { content: "hello", idempotency_key: "k1", agent_id: "echo" });
    expect(res.ok).toBe(true);
    expect(Object.keys(res.payload).sort()).toEqual(["message_id", "request_id", "status", "thread_id"]);
    expect(res.payload.status).toBe("accepted");
    const requestId = res.payload.request_id as string;
    const msg = await agent.message(1);
    expect(msg.request_id).toBe(requestId);
    agent.respond(requestId, { thinking: "hmm" });
    agent.respond(requestId, { text: "Hel" });
    agent.respond(requestId, { text: "lo" });
    agent.respond(requestId, { usage: { input_tokens: 10, output_tokens: 5, thinking_tokens: 1, cache_read_tokens: 2, cache_write_tokens: 3 } });
    agent.respond(requestId, { done: { full_response: "Hello" } });
    await c.waitFor((f) => f.type === "event" && f.payload.kind === "done");
    const run = c.runEvents(requestId);
    expect(c.frames.indexOf(res)).toBeLessThan(c.frames.indexOf(run[0] as Frame));
    expect(run.map((f) => [f.payload.kind, f.payload.data])).toEqual([
      ["started", { message_id: res.payload.message_id, request_id: requestId, thread_id: res.payload.thread_id }],
      ["thinking", { text: "hmm" }],
      ["text", { text: "Hel" }],
      ["text", { text: "lo" }],
      ["usage", { cache_read_tokens: 2, cache_write_tokens: 3, input_tokens: 10, output_tokens: 5, thinking_tokens: 1 }],
      ["done", { full_response: "Hello" }],
    ]);

    // The same key and body: the original ids, nothing started. A changed body: ALREADY_EXISTS.
    const dup = await c.call("send", { content: "hello", idempotency_key: "k1", agent_id: "echo" });
    expect(dup.payload).toEqual({ request_id: requestId, message_id: res.payload.message_id, thread_id: res.payload.thread_id, status: "duplicate" });
    const changed = await c.call("send", { content: "other", idempotency_key: "k1", agent_id: "echo" });
    expect(changed.error).toEqual({ code: "ALREADY_EXISTS", message: "idempotency_key reused with different content" });
    expect(agent.messages).toHaveLength(1);
    expect(c.validationErrors).toEqual([]);
    expect(seqs(c)).toEqual(seqs(c).map((_s, i) => i + 1));
  });

  it("keeps two concurrent runs on one connection apart, each with one terminal (done and agent error)", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "pair");
    const c = await open(gw.httpUrl);
    const [a, b] = await Promise.all([
      c.call("send", { content: "one", idempotency_key: "a", agent_id: "pair" }),
      c.call("send", { content: "two", idempotency_key: "b", agent_id: "pair" }),
    ]);
    const ra = a.payload.request_id as string;
    const rb = b.payload.request_id as string;
    await agent.message(2);
    for (let i = 0; i < 20; i += 1) {
      agent.respond(ra, { text: `a${i} ` });
      agent.respond(rb, { text: `b${i} ` });
    }
    agent.respond(rb, { error: "backend exploded" });
    agent.respond(ra, { done: { full_response: "" } });
    await c.waitCount((f) => f.type === "event" && ["done", "error"].includes(f.payload.kind), 2);
    const textOf = (id: string) => c.runEvents(id).filter((f) => f.payload.kind === "text").map((f) => f.payload.data.text).join("");
    expect(textOf(ra)).toBe(Array.from({ length: 20 }, (_, i) => `a${i} `).join(""));
    expect(textOf(rb)).toBe(Array.from({ length: 20 }, (_, i) => `b${i} `).join(""));
    expect(kinds(c.runEvents(ra)).filter((k) => ["done", "error", "canceled"].includes(k))).toEqual(["done"]);
    expect(c.runEvents(rb).at(-1)?.payload).toEqual({ request_id: rb, kind: "error", data: { error: "backend exploded" } });
    expect(kinds(c.runEvents(rb)).filter((k) => ["done", "error", "canceled"].includes(k))).toEqual(["error"]);
    expect(c.validationErrors).toEqual([]);
  });

  it("ends a run whose agent is killed mid-run with error `agent disconnected`, and a canceled one with `canceled`", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "doomed");
    const { agent: polite } = await connectAgent(cleanups, gw.grpcAddr, "polite", { features: ["token_usage", "tool_states", "cancellation"] });
    const c = await open(gw.httpUrl);
    const res = await c.call("send", { content: "work", idempotency_key: "d", agent_id: "doomed" });
    const requestId = res.payload.request_id as string;
    await agent.message(1);
    agent.respond(requestId, { text: "partial" });
    await c.waitFor((f) => f.type === "event" && f.payload.kind === "text");
    agent.close();
    const end = await c.waitFor((f) => f.type === "event" && f.payload.request_id === requestId && f.payload.kind === "error");
    expect(end.payload.data).toEqual({ error: "agent disconnected" });

    const second = await c.call("send", { content: "stop me", idempotency_key: "p", agent_id: "polite" });
    const turn = second.payload.request_id as string;
    await polite.message(1);
    expect((await c.call("cancel", { request_id: turn, reason: "enough" })).payload).toEqual({ request_id: turn, status: "canceling" });
    await polite.stream.next("cancel_request");
    polite.respond(turn, { cancelled: { reason: "enough" } });
    const canceled = await c.waitFor((f) => f.type === "event" && f.payload.request_id === turn && f.payload.kind === "canceled");
    expect(canceled.payload.data).toEqual({ reason: "enough" });
    expect(kinds(c.runEvents(turn))).toEqual(["started", "canceled"]);
    expect(c.validationErrors).toEqual([]);
  });
});

/** One agent script with every event kind a run can carry before its terminal. */
function playScript(agent: ScriptedAgent, requestId: string): void {
  const r = (event: Record<string, unknown>) => agent.respond(requestId, event);
  r({ session_init: { session_id: "sess-1" } });
  r({ thinking: "planning" });
  r({ tool_use: { id: "t1", name: "bash", input_json: '{"cmd":"ls"}' } });
  r({ tool_state: { id: "t1", state: "TOOL_STATE_RUNNING" } });
  r({ tool_result: { id: "t1", output: "a.txt", is_error: false } });
  r({ file: { filename: "out.txt", mime_type: "text/plain", data: Buffer.from("bytes") } });
  r({ text: "Hello, " });
  r({ text: "world" });
  r({ usage: { input_tokens: 100, output_tokens: 50, cache_read_tokens: 7, cache_write_tokens: 3, thinking_tokens: 2 } });
  r({ session_orphaned: { reason: "expired" } });
  r({ done: { full_response: "Hello, world" } });
}

describe("runs match the SSE stream", () => {
  it("gives the same kinds and data in the same order as POST /api/send for one agent script, and the same ledger rows", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "mirror");
    const ssePromise = postSse(`${gw.httpUrl}/api/send`, { agent_id: "mirror", sender: "alice", content: "world" });
    const first = await agent.message(1);
    playScript(agent, first.request_id as string);
    const sse = await ssePromise;
    expect(sse.status).toBe(200);

    const c = await open(gw.httpUrl);
    const res = await c.call("send", { content: "world", idempotency_key: "mirror-1", agent_id: "mirror", sender: "alice" });
    const requestId = res.payload.request_id as string;
    await agent.message(2);
    playScript(agent, requestId);
    await c.waitFor((f) => f.type === "event" && f.payload.request_id === requestId && f.payload.kind === "done");

    const sseStarted = sse.frames[0]!.json as { request_id: string; message_id: string; thread_id: string };
    const ids = (data: Record<string, unknown>, own: { request_id: string; message_id: string; thread_id: string }) =>
      JSON.parse(JSON.stringify(data).replaceAll(own.request_id, "<request>").replaceAll(own.message_id, "<message>").replaceAll(own.thread_id, "<thread>"));
    const overSse = sse.frames.map((f) => [f.event, ids(f.json, sseStarted)]);
    const wsStarted = { request_id: requestId, message_id: res.payload.message_id as string, thread_id: res.payload.thread_id as string };
    const overWs = c.runEvents(requestId).map((f) => [f.payload.kind, ids(f.payload.data, wsStarted)]);
    expect(overWs.map(([kind]) => kind)).toEqual([
      "started",
      "session_init",
      "thinking",
      "tool_use",
      "tool_state",
      "tool_result",
      "file",
      "text",
      "text",
      "usage",
      "session_orphaned",
      "done",
    ]);
    expect(overWs).toEqual(overSse);

    // The ledger rows of both turns, in order, are the same apart from their ids.
    const rows = (await c.call("events.get", { conversation_key: "mirror", limit: 500 })).payload.events as Frame[];
    const turnRows = (own: { request_id: string; message_id: string }) =>
      rows
        .filter((e) => e.request_id === own.request_id || e.id === own.message_id)
        .map((e) => [e.direction, e.author, e.type, e.text]);
    expect(turnRows(wsStarted)).toHaveLength(4);
    expect(turnRows(wsStarted)).toEqual(turnRows(sseStarted));
    expect(c.validationErrors).toEqual([]);
  });
});

describe("cancel without the cancellation feature", () => {
  it("ends the run `canceled` at once with the default reason, tells the agent nothing and drops its later events", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "plain");
    const c = await open(gw.httpUrl);
    const res = await c.call("send", { content: "stop me", idempotency_key: "c1", agent_id: "plain" });
    const turn = res.payload.request_id as string;
    await agent.message(1);
    agent.respond(turn, { text: "before" });
    await c.waitFor((f) => f.type === "event" && f.payload.request_id === turn && f.payload.kind === "text");
    expect((await c.call("cancel", { request_id: turn })).payload).toEqual({ request_id: turn, status: "canceling" });
    const canceled = await c.waitFor((f) => f.type === "event" && f.payload.request_id === turn && f.payload.kind === "canceled");
    expect(canceled.payload.data).toEqual({ reason: "user_requested" });
    // Late events of the canceled request are dropped; a later turn on the same stream proves they were read.
    agent.respond(turn, { text: "after" });
    agent.respond(turn, { done: { full_response: "before after" } });
    const next = await c.call("send", { content: "again", idempotency_key: "c2", agent_id: "plain" });
    const second = next.payload.request_id as string;
    await agent.message(2);
    agent.respond(second, { done: { full_response: "" } });
    await c.waitFor((f) => f.type === "event" && f.payload.request_id === second && f.payload.kind === "done");
    expect(kinds(c.runEvents(turn))).toEqual(["started", "text", "canceled"]);
    expect(agent.stream.received.filter((f) => f.payload === "cancel_request")).toEqual([]);
    expect((await c.call("cancel", { request_id: turn })).error).toEqual({ code: "NOT_FOUND", message: "request not found" });
    expect(c.validationErrors).toEqual([]);
  });
});

describe("flow control", () => {
  it("a 20 000-chunk run read by a client that stops reading: the agent is paused, every chunk arrives in order", async () => {
    const gw = await startGateway(cleanups, { limits: { wsMaxBufferedBytes: 64 * 1024, wsMaxPayloadBytes: 64 * 1024 } });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "firehose");
    const c = await open(gw.httpUrl);
    const res = await c.call("send", { content: "flood", idempotency_key: "f", agent_id: "firehose" });
    const requestId = res.payload.request_id as string;
    await agent.message(1);
    await c.waitFor((f) => f.type === "event" && f.payload.kind === "started");
    // Stop reading: the kernel buffers fill, the gateway's socket buffer passes its limit and the run waits.
    c.socket.pause();
    const total = 20_000;
    const chunk = "y".repeat(200);
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < total; i += 1) agent.respond(requestId, { text: `${i}:${chunk}` });
    agent.respond(requestId, { done: { full_response: "" } });
    // The pause, observed rather than slept for: the run writer waits on the socket and the agent stream is paused.
    const pausedBoth = async () => {
      const metrics = parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
      return valueOf(metrics, "coven_write_waits_total", { kind: "ws" }) >= 1 && valueOf(metrics, "coven_backpressure_pauses_total") >= 1;
    };
    await waitUntil(pausedBoth, "the ws writer to wait and the agent stream to pause", 60_000);
    const paused = c.runEvents(requestId).length;
    expect(paused).toBeLessThan(total);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    c.socket.resume();
    await c.waitFor((f) => f.type === "event" && f.payload.request_id === requestId && f.payload.kind === "done", 120_000);
    const texts = c.runEvents(requestId).filter((f) => f.payload.kind === "text");
    expect(texts).toHaveLength(total);
    texts.forEach((f, i) => expect(f.payload.data.text).toBe(`${i}:${chunk}`));
    // Bounded: 20 000 chunks of ~200 bytes held as frames, JSON and events would be well over 20 MB.
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
    expect(seqs(c)).toEqual(seqs(c).map((_s, i) => i + 1));
  }, 180_000);

  it("a client that never reads again is closed 4001 `write stalled` and its run is canceled client_disconnected", async () => {
    const gw = await startGateway(cleanups, {
      limits: { wsMaxBufferedBytes: 16 * 1024, wsMaxPayloadBytes: 16 * 1024, sseWriteStallTimeoutMs: 1_500 },
    });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "stall", { features: ["token_usage", "tool_states", "cancellation"] });
    const c = await open(gw.httpUrl);
    const res = await c.call("send", { content: "flood", idempotency_key: "s", agent_id: "stall" });
    const requestId = res.payload.request_id as string;
    await agent.message(1);
    c.socket.pause();
    const chunk = "z".repeat(1024);
    for (let i = 0; i < 4_000; i += 1) agent.respond(requestId, { text: chunk });
    const cancel = await agent.stream.next("cancel_request", () => true, 30_000);
    expect(cancel.cancel_request).toMatchObject({ request_id: requestId, reason: "client_disconnected" });
    c.socket.resume();
    const closed = await c.closedPromise;
    expect([4001, 1006]).toContain(closed.code);
    const metrics = parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
    expect(valueOf(metrics, "coven_write_stalls_total", { kind: "ws" })).toBe(1);
    expect(valueOf(metrics, "coven_write_waits_total", { kind: "ws" })).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe("shutdown", () => {
  it("sends `shutdown`, keeps the run streaming to its terminal event, then closes 1012; later requests are refused", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "drain");
    const c = await open(gw.httpUrl);
    const res = await c.call("send", { content: "long", idempotency_key: "x", agent_id: "drain" });
    const requestId = res.payload.request_id as string;
    await agent.message(1);
    const stopping = gw.stop();
    await c.waitFor((f) => f.type === "event" && f.event === "shutdown");
    const refused = await c.call("ping");
    expect(refused.error).toEqual({ code: "UNAVAILABLE", message: "gateway shutting down" });
    agent.respond(requestId, { done: { full_response: "made it" } });
    const closed = await c.closedPromise;
    expect(closed).toEqual({ code: 1012, reason: "gateway shutting down" });
    await stopping;
    const run = c.runEvents(requestId);
    expect(run.at(-1)?.payload.kind).toBe("done");
    expect(kinds(run).filter((k) => ["done", "error", "canceled"].includes(k))).toHaveLength(1);
    expect(c.validationErrors).toEqual([]);
  });
});
