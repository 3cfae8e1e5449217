// ABOUTME: The SSE contract of the send streams over a real listener: headers, `started` first, every event with
// ABOUTME: sorted keys, exactly one terminal, heartbeats, client disconnect -> clientGone, shutdown's final event.
import { afterEach, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/agent/agent-events.js";
import { SseRegistry } from "../../src/http/sse-channel.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";
import { openSse } from "./support/sse-client.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SEND = { content: "hello", sender: "tester", agent_id: "a1" };
const TERMINALS = new Set(["done", "error", "canceled"]);

describe("send stream", () => {
  it("streams started first, then every event in order with sorted keys, then done, and ends", async () => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const sse = await openSse(url, "/api/send", { body: SEND });
    expect(sse.status).toBe(200);
    expect(sse.headers["content-type"]).toBe("text/event-stream");
    expect(sse.headers["cache-control"]).toBe("no-cache");
    expect(sse.headers.connection).toBe("keep-alive");
    expect(sse.headers["x-accel-buffering"]).toBe("no");
    expect(sse.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    const sent = await agent.nextSendMessage();
    const events: AgentEvent[] = [
      { kind: "thinking", text: "hmm" },
      { kind: "text", text: "Hel" },
      { kind: "tool_use", id: "t1", name: "read", inputJson: '{"path":"/x"}' },
      { kind: "tool_state", id: "t1", state: "running", detail: "" },
      { kind: "tool_result", id: "t1", output: "data", isError: false },
      { kind: "tool_approval", id: "t2", name: "rm", inputJson: "{}", requestId: sent.requestId },
      { kind: "usage", inputTokens: 10, outputTokens: 20, cacheReadTokens: 1, cacheWriteTokens: 2, thinkingTokens: 3 },
      { kind: "file", filename: "a.png", mimeType: "image/png", data: new Uint8Array([1, 2, 3]) },
      { kind: "session_init", sessionId: "s1" },
      { kind: "session_orphaned", reason: "gone" },
      { kind: "text", text: "lo\nworld" },
      { kind: "done", fullResponse: "Hello\nworld", origin: "agent" },
    ];
    for (const event of events) agent.respond(sent.requestId, event);
    const body = await sse.ended;
    const frames = body.split("\n\n").slice(0, -1);
    const userMessage = (await h.ledger.findByRequestId(sent.requestId))[0];
    expect(frames).toEqual([
      `event: started\ndata: {"message_id":"${userMessage?.eventId}","request_id":"${sent.requestId}","thread_id":"${sent.threadId}"}`,
      'event: thinking\ndata: {"text":"hmm"}',
      'event: text\ndata: {"text":"Hel"}',
      'event: tool_use\ndata: {"id":"t1","input_json":"{\\"path\\":\\"/x\\"}","name":"read"}',
      'event: tool_state\ndata: {"detail":"","id":"t1","state":"running"}',
      'event: tool_result\ndata: {"id":"t1","is_error":false,"output":"data"}',
      `event: tool_approval\ndata: {"id":"t2","input_json":"{}","name":"rm","request_id":"${sent.requestId}"}`,
      'event: usage\ndata: {"cache_read_tokens":1,"cache_write_tokens":2,"input_tokens":10,"output_tokens":20,"thinking_tokens":3}',
      'event: file\ndata: {"filename":"a.png","mime_type":"image/png"}',
      'event: session_init\ndata: {"session_id":"s1"}',
      'event: session_orphaned\ndata: {"reason":"gone"}',
      'event: text\ndata: {"text":"lo\\nworld"}',
      'event: done\ndata: {"full_response":"Hello\\nworld"}',
    ]);
    expect(body.endsWith("\n\n")).toBe(true);
    const final = (await h.ledger.findByRequestId(sent.requestId)).at(-1);
    expect([final?.type, final?.text]).toEqual(["message", "Hello\nworld"]);
  });

  it.each([
    ["an agent error", { kind: "error", error: "boom", origin: "agent" } as AgentEvent, "error", { error: "boom" }],
    ["an agent cancel", { kind: "canceled", reason: "stopped", origin: "agent" } as AgentEvent, "canceled", { reason: "stopped" }],
  ])("ends with exactly one terminal on %s", async (_name, terminal, event, data) => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const sse = await openSse(url, "/api/send", { body: SEND });
    const sent = await agent.nextSendMessage();
    agent.respond(sent.requestId, { kind: "text", text: "partial" });
    agent.respond(sent.requestId, terminal);
    agent.respond(sent.requestId, { kind: "done", fullResponse: "late", origin: "agent" });
    await sse.ended;
    const events = sse.events();
    expect(events.map((e) => e.event)).toEqual(["started", "text", event]);
    expect(events.at(-1)?.data).toEqual(data);
  });

  it("ends with error agent disconnected when the agent stream closes mid-request", async () => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const sse = await openSse(url, "/api/agents/a1/send", { body: { message: "go" } });
    const sent = await agent.nextSendMessage();
    agent.respond(sent.requestId, { kind: "text", text: "part" });
    await sse.waitFor((frames) => frames.some((f) => f.event === "text"));
    agent.disconnect();
    const body = await sse.ended;
    expect(body.endsWith('event: error\ndata: {"error":"agent disconnected"}\n\n')).toBe(true);
    expect(sse.events().filter((e) => TERMINALS.has(e.event))).toHaveLength(1);
  });

  it("sends heartbeat comments while the stream is idle", async () => {
    h = await createHttpHarness({ limits: { sseHeartbeatIntervalMs: 20 } });
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const sse = await openSse(url, "/api/send", { body: SEND });
    const sent = await agent.nextSendMessage();
    await sse.waitFor((frames) => frames.filter((f) => f.comment === "heartbeat").length >= 2);
    agent.respond(sent.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    const body = await sse.ended;
    expect(body).toMatch(/^event: started\n[^\n]*\n\n(: heartbeat\n\n){2,}event: done\n/);
  });

  it("treats a client disconnect as gone: clientGone cancels, nothing leaks, the turn is still persisted", async () => {
    const sseRegistry = new SseRegistry();
    h = await createHttpHarness({ limits: { sseHeartbeatIntervalMs: 10 }, deps: { sseRegistry } });
    const agent = await h.connectAgent({ agentId: "a1", protocolFeatures: ["cancellation"] });
    const url = await h.listen();
    const sse = await openSse(url, "/api/send", { body: SEND });
    const sent = await agent.nextSendMessage();
    agent.respond(sent.requestId, { kind: "text", text: "so far" });
    await sse.waitFor((frames) => frames.some((f) => f.event === "text"));
    expect(sseRegistry.size).toBe(1);
    sse.destroy();
    await agent.waitFor(() => agent.frames.some((f) => f.kind === "cancel_request"));
    expect(agent.frames.find((f) => f.kind === "cancel_request")).toEqual({
      kind: "cancel_request",
      requestId: sent.requestId,
      reason: "client_disconnected",
    });
    expect(sseRegistry.size).toBe(0);
    agent.respond(sent.requestId, { kind: "text", text: " and more" });
    agent.respond(sent.requestId, { kind: "canceled", reason: "client_disconnected", origin: "agent" });
    await h.conversations.drain();
    const rows = await h.ledger.findByRequestId(sent.requestId);
    expect(rows.map((r) => [r.type, r.text])).toEqual([
      ["message", "hello"],
      ["message", "so far and more"],
      ["system", "canceled: client_disconnected"],
    ]);
  });

  it("gives an open stream its final error event when the app closes", async () => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const sse = await openSse(url, "/api/send", { body: SEND });
    await agent.nextSendMessage();
    await sse.waitFor((frames) => frames.length >= 1);
    await h.app.close();
    const body = await sse.ended;
    expect(body.endsWith('event: error\ndata: {"error":"gateway shutting down"}\n\n')).toBe(true);
    expect(sse.events().map((e) => e.event)).toEqual(["started", "error"]);
  });
});
