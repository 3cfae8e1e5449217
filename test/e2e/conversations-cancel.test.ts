// ABOUTME: POST /api/requests/{id}/cancel through the real composition root while an SSE send stream is open:
// ABOUTME: agents with `cancellation` (answering, or silent until `limits.cancelGraceMs`) and without it.
import { afterEach, describe, expect, it } from "vitest";
import { plain, unary, type EventFrame } from "../rpc/support/conversation-clients.js";
import {
  connectAgent,
  conversationEvents,
  createCleanups,
  eventNames,
  httpJson,
  openClient,
  openGatewayV1Client,
  SseSession,
  startGateway,
  subscribe,
} from "./support/conversation-e2e.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

/** The ledger of one agent as `type:author:text`. */
async function ledger(grpcAddr: string, agentId: string): Promise<string[]> {
  const c = openClient(cleanups, grpcAddr);
  return (await conversationEvents(c, agentId)).map((e: EventFrame) => `${e.type}:${e.author}:${e.text}`);
}

describe("cancel an SSE send through the whole gateway", () => {
  it("with `cancellation`: the agent gets CancelRequest and its `cancelled` ends the stream `canceled`", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "stoppable", { features: ["cancellation", "tool_states"] });
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "stoppable", sender: "alice", content: "long job" });
    const started = await sse.next("started");
    const turn = (await agent.message(1)).request_id as string;
    agent.respond(turn, { text: "working on it " });
    await sse.next("text");

    // By the user message id, with a reason.
    const cancel = await httpJson(`${gw.httpUrl}/api/requests/${started.message_id as string}/cancel`, "POST", { reason: "stop now" });
    expect(cancel).toEqual({ status: 202, json: { request_id: turn, status: "canceling" } });
    expect(plain((await agent.stream.next("cancel_request")).cancel_request)).toEqual({ request_id: turn, reason: "stop now" });
    agent.respond(turn, { cancelled: { reason: "stopped by agent" } });
    const res = await sse.ended();
    expect(res.frames.map((f) => [f.event, f.json])).toEqual([
      ["started", started],
      ["text", { text: "working on it " }],
      ["canceled", { reason: "stopped by agent" }],
    ]);
    expect(await httpJson(`${gw.httpUrl}/api/requests/${turn}/cancel`, "POST")).toEqual({ status: 404, json: { error: "request not found" } });
    expect(await ledger(gw.grpcAddr, "stoppable")).toEqual([
      "message:alice:long job",
      "message:agent:stoppable:working on it ",
      "system:agent:stoppable:canceled: stopped by agent",
    ]);
  });

  it("with `cancellation` and a silent agent: the gateway ends the stream `canceled` after the cancel grace", async () => {
    const gw = await startGateway(cleanups, { limits: { cancelGraceMs: 300 } });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "deaf", { features: ["cancellation"] });
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "deaf", sender: "alice", content: "spin" });
    await sse.next("started");
    const turn = (await agent.message(1)).request_id as string;

    const askedAt = Date.now();
    const cancel = await httpJson(`${gw.httpUrl}/api/requests/${turn}/cancel`, "POST");
    expect(cancel).toEqual({ status: 202, json: { request_id: turn, status: "canceling" } });
    expect(plain((await agent.stream.next("cancel_request")).cancel_request)).toEqual({ request_id: turn, reason: "user_requested" });
    const res = await sse.ended(5_000);
    // The agent had its grace: the gateway did not end the request before it ran out.
    expect(Date.now() - askedAt).toBeGreaterThanOrEqual(250);
    expect(res.frames.map((f) => [f.event, f.json])).toEqual([
      ["started", expect.any(Object)],
      ["canceled", { reason: "user_requested" }],
    ]);

    // What the agent sends for the ended request afterwards is dropped; a later turn shows it was processed.
    agent.respond(turn, { text: "too late" });
    agent.respond(turn, { done: {} });
    const next = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "deaf", sender: "alice", content: "again" });
    await next.next("started");
    agent.respond((await agent.message(2)).request_id as string, { done: { full_response: "ok" } });
    expect(eventNames(await next.ended())).toEqual(["started", "done"]);
    expect(await ledger(gw.grpcAddr, "deaf")).toEqual([
      "message:alice:spin",
      "system:system:canceled: user_requested",
      "message:alice:again",
      "message:agent:deaf:ok",
    ]);
  });

  it("without `cancellation`: the stream ends `canceled` `user_requested` at once and the agent is told nothing", async () => {
    const gw = await startGateway(cleanups);
    expect(gw.config.limits.cancelGraceMs).toBeGreaterThanOrEqual(10_000);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "plain", { features: [] });
    const c = openClient(cleanups, gw.grpcAddr);
    const watcher = await subscribe(cleanups, c, { conversation_key: "plain" });
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "plain", sender: "carol", content: "forever" });
    await sse.next("started");
    const turn = (await agent.message(1)).request_id as string;

    expect(await httpJson(`${gw.httpUrl}/api/requests/${turn}/cancel`, "POST")).toEqual({ status: 202, json: { request_id: turn, status: "canceling" } });
    // Well inside the default 10 s grace: the end does not wait for it.
    const res = await sse.ended(3_000);
    expect(res.frames.map((f) => [f.event, f.json])).toEqual([
      ["started", expect.any(Object)],
      ["canceled", { reason: "user_requested" }],
    ]);
    expect((await watcher.next("error")).error).toEqual({ message: "canceled: user_requested", recoverable: false });

    // A later turn on the same stream proves no CancelRequest was written before it.
    const next = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "plain", sender: "carol", content: "short" });
    await next.next("started");
    agent.respond((await agent.message(2)).request_id as string, { done: { full_response: "done" } });
    expect(eventNames(await next.ended())).toEqual(["started", "done"]);
    expect(agent.stream.received.filter((f) => f.payload === "cancel_request")).toEqual([]);
  });

  it("coven.gateway.v1 CancelRequest cancels by user message id; ListAgentStates shows busy, then idle", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "v1-agent", { features: [] });
    const v1 = openGatewayV1Client(cleanups, gw.grpcAddr);
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "v1-agent", sender: "dave", content: "work" });
    const started = await sse.next("started");
    await agent.message(1);
    expect((await unary(v1, "ListAgentStates", {})).response).toEqual({
      agents: [{ agent_id: "v1-agent", name: "v1-agent", state: "busy", pending_requests: 1 }],
    });

    const cancel = await unary(v1, "CancelRequest", { id: started.message_id });
    expect(cancel.response).toEqual({ request_id: started.request_id, status: "canceling" });
    expect((await sse.ended(3_000)).frames.at(-1)).toMatchObject({ event: "canceled", json: { reason: "user_requested" } });
    expect((await unary(v1, "ListAgentStates", {})).response).toEqual({
      agents: [{ agent_id: "v1-agent", name: "v1-agent", state: "idle", pending_requests: 0 }],
    });
  });
});
