// ABOUTME: The web chat over HTTP (web-admin.md §6, §10.1): send validation, the SSE stream's order on connect,
// ABOUTME: payload keys per event against a scripted agent, approvals and questions answered, cancel, overflow.
import { afterEach, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { connectAgent, createCleanups } from "../e2e/support/conversation-e2e.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { Browser, signedIn, SseReader, startWebGateway } from "./support.js";
import { parseExposition, valueOf } from "../support/prom-text.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function setup(): Promise<{ gw: TestGateway; b: Browser }> {
  const gw = await startWebGateway({ authOff: true });
  cleanups.add(() => gw.stop());
  return { gw, b: await signedIn(gw) };
}

function openStream(gw: TestGateway, b: Browser, agentId: string): SseReader {
  const reader = new SseReader(gw.httpPort, `/chat/${agentId}/stream`, b.cookieHeader);
  cleanups.add(() => reader.close());
  return reader;
}

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("web chat", () => {
  it("validates /chat/{id}/send with the exact texts", async () => {
    const { gw, b } = await setup();
    await connectAgent(cleanups, gw.grpcAddr, "echo");
    const noCsrf = await b.form("/chat/echo/send", { message: "hi" }, { csrf: null });
    expect([noCsrf.statusCode, noCsrf.body]).toEqual([403, "Invalid request"]);
    const empty = await b.form("/chat/echo/send", { message: "  " });
    expect([empty.statusCode, empty.body]).toEqual([400, "Message required"]);
    const offline = await b.form("/chat/nobody/send", { message: "hi" });
    expect([offline.statusCode, offline.body]).toEqual([404, "Agent not connected"]);
    const bad = await gw.gateway.http.inject({
      method: "POST",
      url: "/chat/echo/send",
      headers: { cookie: b.cookieHeader, "x-csrf-token": b.csrf, "content-type": "application/x-www-form-urlencoded" },
      payload: "message=%",
    });
    expect([bad.statusCode, bad.body]).toEqual([400, "Invalid form data"]);
    const anon = new Browser(gw.gateway.http);
    const unauth = await anon.json("POST", "/chat/echo/send", { message: "x" });
    expect([unauth.statusCode, unauth.body]).toEqual([401, '{"error":"not authenticated"}\n']);
    expect((await anon.get("/chat/echo/stream")).statusCode).toBe(401);
  });

  it("streams connected, replay, catch-up, pending approvals and questions, history_end, then live events", async () => {
    const { gw, b } = await setup();
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "echo");
    const sent = await b.form("/chat/echo/send", { message: "hello there" });
    expect(sent.statusCode).toBe(200);
    const { request_id: requestId = "", ...rest } = JSON.parse(sent.body) as Record<string, string>;
    expect(rest).toEqual({ agent_id: "echo", status: "sent" });
    const msg = await agent.message(1);
    expect(msg.request_id).toBe(requestId);
    expect(msg.sender).toBe("alice");
    agent.respond(requestId, { thinking: "hmm" });
    agent.respond(requestId, { text: "Hel" });
    agent.respond(requestId, { text: "lo" });
    agent.respond(requestId, { tool_approval_request: { id: "t1", name: "bash", input_json: '{"cmd":"ls"}' } });

    // A first stream is a recipient, so an ask_user question can be raised.
    const first = openStream(gw, b, "echo");
    await first.next("history_end");
    const asked = gw.gateway.domain.questions.ask({
      agentId: "echo",
      question: "Which colour?",
      options: [{ label: "red", description: "warm" }, { label: "blue" }],
      multiSelect: false,
      timeoutSeconds: 60,
    });
    await first.next("user_question");
    await first.until((f) => f.some((x) => x.event === "tool_approval"), "tool approval on the first stream");

    const s = openStream(gw, b, "echo");
    const frames = await s.until((f) => f.some((x) => x.event === "history_end"), "history_end");
    expect(s.headers["content-type"]).toBe("text/event-stream");
    expect(s.headers["cache-control"]).toBe("no-cache");
    expect(s.headers["x-accel-buffering"]).toBe("no");
    expect(frames.map((f) => f.event)).toEqual(["connected", "user", "thinking", "text", "tool_approval", "user_question", "history_end"]);
    const [connected, user, thinking, text, approval, question, end] = frames.map((f) => f.data);
    expect(connected).toEqual({ type: "connected", timestamp: expect.stringMatching(TS), agent_id: "echo", state: "busy" });
    expect(user).toMatchObject({ type: "user", content: "hello there", sender: "alice", replay: true, event_id: expect.any(String) });
    expect(thinking).toMatchObject({ type: "thinking", content: "hmm", request_id: requestId });
    expect(text).toMatchObject({ type: "text", content: "Hello", request_id: requestId });
    expect(approval).toEqual({
      type: "tool_approval",
      timestamp: expect.stringMatching(TS),
      tool_id: "t1",
      tool_name: "bash",
      input_json: '{"cmd":"ls"}',
      request_id: requestId,
      expires_at: expect.stringMatching(TS),
    });
    expect(question).toEqual({
      type: "user_question",
      timestamp: expect.stringMatching(TS),
      question_id: expect.any(String),
      question: "Which colour?",
      options: [
        { label: "red", description: "warm" },
        { label: "blue", description: "" },
      ],
      multi_select: false,
      header: "",
      timeout_seconds: 60,
      expires_at: expect.stringMatching(TS),
    });
    expect(end).toEqual({ type: "history_end", timestamp: expect.stringMatching(TS), count: 1 });

    // Answer the approval from the chat: the agent hears it and both streams see it resolved.
    const bad = await b.json("POST", "/chat/echo/approve", { tool_id: "t1", decision: "maybe" });
    expect([bad.statusCode, bad.body]).toEqual([400, "Invalid decision"]);
    const ok = await b.json("POST", "/chat/echo/approve", { tool_id: "t1", decision: "approve" });
    expect([ok.statusCode, ok.body]).toEqual([200, '{"approved":true,"success":true}\n']);
    expect((await agent.stream.next("tool_approval")).tool_approval).toEqual({ id: "t1", approved: true, approve_all: false });
    const resolved = await s.next("approval_resolved");
    expect(resolved.data).toEqual({
      type: "approval_resolved",
      timestamp: expect.stringMatching(TS),
      tool_id: "t1",
      request_id: requestId,
      status: "approved",
      approve_all: false,
      resolved_by: expect.stringMatching(/^webadmin:/),
    });
    const again = await b.json("POST", "/chat/echo/approve", { tool_id: "t1", decision: "deny" });
    expect([again.statusCode, again.body]).toEqual([409, '{"error":"tool approval already resolved"}\n']);
    const unknown = await b.json("POST", "/chat/echo/approve", { tool_id: "zz", decision: "deny" });
    expect([unknown.statusCode, unknown.body]).toEqual([404, '{"error":"tool approval not found"}\n']);

    // Answer the question: checks, then delivery.
    const questionId = String(question?.question_id);
    const wrong = await b.json("POST", "/chat/echo/answer", { question_id: questionId, selected: ["green"] });
    expect([wrong.statusCode, wrong.body]).toEqual([400, '{"error":"unknown option label: \\"green\\""}\n']);
    const answered = await b.json("POST", "/chat/echo/answer", { question_id: questionId, selected: ["red"], custom_text: "" });
    expect([answered.statusCode, answered.body]).toEqual([200, '{"success":true}\n']);
    expect(await asked).toEqual({ answered: true, selected: ["red"] });
    expect((await s.next("question_resolved")).data).toMatchObject({ question_id: questionId, status: "answered" });
    const twice = await b.json("POST", "/chat/echo/answer", { question_id: questionId, selected: ["red"] });
    expect([twice.statusCode, twice.body]).toEqual([404, '{"error":"question not found or already answered"}\n']);

    // Live events carry request_id and the §6.3 keys.
    const mark = s.frames.length;
    agent.respond(requestId, { tool_use: { id: "t1", name: "bash", input_json: '{"cmd":"ls"}' } });
    agent.respond(requestId, { tool_state: { id: "t1", state: 3, detail: "" } });
    agent.respond(requestId, { tool_result: { id: "t1", output: "a b", is_error: false } });
    agent.respond(requestId, { usage: { input_tokens: 5, output_tokens: 7 } });
    agent.respond(requestId, { text: "!" });
    agent.respond(requestId, { done: { full_response: "Hello!" } });
    await s.next("done", mark);
    const liveFrames = s.frames.slice(mark).filter((f) => f.event !== "approval_resolved" && f.event !== "question_resolved");
    expect(liveFrames.map((f) => f.event)).toEqual(["tool_use", "tool_state", "tool_result", "usage", "text", "done"]);
    const byType = Object.fromEntries(liveFrames.map((f) => [f.event, f.data]));
    expect(byType.tool_use).toEqual({ type: "tool_use", timestamp: expect.stringMatching(TS), request_id: requestId, tool_id: "t1", tool_name: "bash", content: '{"cmd":"ls"}' });
    expect(byType.tool_state).toEqual({ type: "tool_state", timestamp: expect.stringMatching(TS), request_id: requestId, tool_id: "t1", state: "running", detail: "" });
    expect(byType.tool_result).toEqual({ type: "tool_result", timestamp: expect.stringMatching(TS), request_id: requestId, tool_id: "t1", content: "a b", is_error: false });
    expect(byType.usage).toEqual({
      type: "usage",
      timestamp: expect.stringMatching(TS),
      request_id: requestId,
      input_tokens: 5,
      output_tokens: 7,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      thinking_tokens: 0,
    });
    expect(byType.done).toEqual({ type: "done", timestamp: expect.stringMatching(TS), request_id: requestId, content: "Hello!" });

    const audit = await createAuditRepository(gw.gateway.store.db).list({ limit: 10 });
    const tool = audit.find((a) => a.action === "approve_tool");
    expect(JSON.parse(tool?.detailJson ?? "{}")).toMatchObject({ username: "alice", agent_id: "echo", tool_id: "t1", request_id: requestId, approved: true, approve_all: false });
    expect(audit.find((a) => a.action === "answer_question")?.detailJson).toContain('"username":"alice"');

    // A live message from another ingress shows as `user`; a stream for an unknown agent opens offline.
    const offline = openStream(gw, b, "ghost");
    const ghost = await offline.until((f) => f.some((x) => x.event === "history_end"), "ghost history_end");
    expect(ghost.map((f) => f.data)).toEqual([
      { type: "connected", timestamp: expect.stringMatching(TS), agent_id: "ghost", state: "offline" },
      { type: "history_end", timestamp: expect.stringMatching(TS), count: 0 },
    ]);
  });

  it("cancels this user's newest in-flight request with reason user_requested", async () => {
    const { gw, b } = await setup();
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "slow");
    expect((await b.form("/chat/slow/cancel", {})).statusCode).toBe(404);
    const s = openStream(gw, b, "slow");
    await s.next("history_end");
    const sent = JSON.parse((await b.form("/chat/slow/send", { message: "go slow" })).body) as { request_id: string };
    await agent.message(1);
    const res = await b.form("/chat/slow/cancel", {});
    expect([res.statusCode, res.body]).toEqual([202, `{"request_id":"${sent.request_id}","status":"canceling"}\n`]);
    const canceled = await s.next("canceled");
    expect(canceled.data).toMatchObject({ type: "canceled", request_id: sent.request_id, reason: expect.any(String) });
    const after = await b.form("/chat/slow/cancel", {});
    expect([after.statusCode, after.body]).toEqual([404, "No active request"]);
  });

  it("ends an overflowing stream with the slow_consumer error, counted by the hub", async () => {
    const { gw, b } = await setup();
    const s = openStream(gw, b, "flood");
    await s.next("history_end");
    s.response?.pause();
    const big = "x".repeat(16 * 1024);
    const at = new Date().toISOString();
    const before = gw.gateway.hub.counters.subscriberOverflows;
    for (let i = 0; i < 4000 && gw.gateway.hub.counters.subscriberOverflows === before; i += 1) {
      gw.gateway.hub.publish({ kind: "agent", conversationKey: "flood", requestId: "r1", event: { kind: "text", text: big }, at });
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(gw.gateway.hub.counters.subscriberOverflows).toBe(before + 1);
    s.response?.resume();
    await s.until(() => s.ended, "the end of the stream", 20_000).catch(() => undefined);
    const last = s.frames.at(-1);
    expect(last?.event).toBe("error");
    expect(last?.data).toEqual({ type: "error", timestamp: expect.stringMatching(TS), content: "stream overflow", reason: "slow_consumer" });
    const metrics = parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
    expect(valueOf(metrics, "coven_subscriber_overflows_total", { kind: "webchat" })).toBe(1);
    expect(valueOf(metrics, "coven_subscribers", { kind: "webchat" })).toBe(0);
  });
});
