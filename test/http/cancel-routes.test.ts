// ABOUTME: POST /api/requests/{id}/cancel over a real listener: 405, optional body, 404 for unknown or finished
// ABOUTME: requests, 202, and how the stream ends with and without the agent's `cancellation` feature.
import { afterEach, describe, expect, it } from "vitest";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";
import { openSse } from "./support/sse-client.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SEND = { content: "hello", sender: "tester", agent_id: "a1" };

async function cancel(id: string, payload?: string, headers: Record<string, string> = {}) {
  const res = await h!.app.inject({
    method: "POST",
    url: `/api/requests/${encodeURIComponent(id)}/cancel`,
    headers,
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: res.statusCode, body: res.body };
}

/** Opens a send stream to a1 and waits for the dispatch; returns the stream and its ids. */
async function startTurn(harness: HttpHarness, protocolFeatures: string[] = []) {
  const agent = await harness.connectAgent({ agentId: "a1", protocolFeatures });
  const url = await harness.listen();
  const sse = await openSse(url, "/api/send", { body: SEND });
  const sent = await agent.nextSendMessage();
  await sse.waitFor((frames) => frames.some((f) => f.event === "started"));
  const started = sse.events()[0]?.data as { message_id: string; request_id: string };
  return { agent, sse, sent, started };
}

describe("POST /api/requests/{id}/cancel checks", () => {
  it("treats an id longer than fastify's default parameter limit like any unknown id", async () => {
    h = await createHttpHarness();
    expect(await cancel("r".repeat(300))).toEqual({ status: 404, body: '{"error":"request not found"}\n' });
  });

  it("answers 405 with an empty body for other methods", async () => {
    h = await createHttpHarness();
    const res = await h.app.inject({ method: "GET", url: "/api/requests/r1/cancel" });
    expect([res.statusCode, res.body]).toEqual([405, ""]);
  });

  it("checks the optional body before the request: bad JSON or a non-string reason is 400", async () => {
    h = await createHttpHarness();
    expect(await cancel("nope", "{")).toEqual({ status: 400, body: '{"error":"invalid JSON body"}\n' });
    expect(await cancel("nope", '{"reason":5}')).toEqual({ status: 400, body: '{"error":"invalid JSON body"}\n' });
  });

  it.each([
    ["no body", undefined],
    ["an empty body", ""],
    ["a null body", "null"],
    ["an object", '{"reason":"x"}'],
  ])("answers 404 request not found for an unknown id with %s", async (_name, payload) => {
    h = await createHttpHarness();
    expect(await cancel("unknown", payload)).toEqual({ status: 404, body: '{"error":"request not found"}\n' });
  });
});

describe("canceling a request in flight", () => {
  it("without the agent's cancellation feature: 202, and the stream ends canceled user_requested at once", async () => {
    h = await createHttpHarness();
    const { agent, sse, sent, started } = await startTurn(h);
    expect(started.request_id).toBe(sent.requestId);
    const res = await cancel(sent.requestId);
    expect(res).toEqual({ status: 202, body: `{"request_id":"${sent.requestId}","status":"canceling"}\n` });
    const body = await sse.ended;
    expect(body.endsWith('event: canceled\ndata: {"reason":"user_requested"}\n\n')).toBe(true);
    expect(sse.events().map((e) => e.event)).toEqual(["started", "canceled"]);
    expect(agent.frames.some((f) => f.kind === "cancel_request")).toBe(false);
  });

  it("with the feature: CancelRequest goes to the agent, and the stream ends canceled when the agent answers", async () => {
    h = await createHttpHarness();
    const { agent, sse, sent } = await startTurn(h, ["cancellation"]);
    const res = await cancel(sent.requestId, '{"reason":"changed my mind"}');
    expect(res).toEqual({ status: 202, body: `{"request_id":"${sent.requestId}","status":"canceling"}\n` });
    await agent.waitFor(() => agent.frames.some((f) => f.kind === "cancel_request"));
    expect(agent.frames.find((f) => f.kind === "cancel_request")).toEqual({
      kind: "cancel_request",
      requestId: sent.requestId,
      reason: "changed my mind",
    });
    agent.respond(sent.requestId, { kind: "text", text: "wrapping up" });
    await sse.waitFor((frames) => frames.some((f) => f.event === "text"));
    expect(sse.events().map((e) => e.event)).toEqual(["started", "text"]);
    agent.respond(sent.requestId, { kind: "canceled", reason: "stopped by agent", origin: "agent" });
    const body = await sse.ended;
    expect(body.endsWith('event: canceled\ndata: {"reason":"stopped by agent"}\n\n')).toBe(true);
    expect(sse.events().map((e) => e.event)).toEqual(["started", "text", "canceled"]);
  });

  it("cancels by the user message id, answering with the request id", async () => {
    h = await createHttpHarness();
    const { sse, sent, started } = await startTurn(h);
    expect(started.message_id).not.toBe(sent.requestId);
    const res = await cancel(started.message_id, "", { "content-type": "application/json" });
    expect(res).toEqual({ status: 202, body: `{"request_id":"${sent.requestId}","status":"canceling"}\n` });
    await sse.ended;
    expect(sse.events().at(-1)).toMatchObject({ event: "canceled", data: { reason: "user_requested" } });
  });

  it("answers 404 request not found once the request finished, by either id", async () => {
    h = await createHttpHarness();
    const { agent, sse, sent, started } = await startTurn(h);
    agent.respond(sent.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    await sse.ended;
    await h.conversations.drain();
    expect(await cancel(sent.requestId)).toEqual({ status: 404, body: '{"error":"request not found"}\n' });
    expect(await cancel(started.message_id)).toEqual({ status: 404, body: '{"error":"request not found"}\n' });
  });
});
