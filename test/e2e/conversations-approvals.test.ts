// ABOUTME: Tool approvals through the real composition root: answered over HTTP from an SSE send stream, still
// ABOUTME: pending after a StreamEvents reconnect, and expired after `limits.toolApprovalTimeoutMs` with a deny.
import { afterEach, describe, expect, it } from "vitest";
import type { EventFrame } from "../rpc/support/conversation-clients.js";
import { unary } from "../rpc/support/conversation-clients.js";
import {
  connectAgent,
  conversationEvents,
  createCleanups,
  eventNames,
  httpJson,
  openClient,
  sendMessage,
  SseSession,
  startGateway,
  subscribe,
} from "./support/conversation-e2e.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

const RM_INPUT = "{\"cmd\":\"rm -rf build\"}";

describe("tool approvals through the whole gateway", () => {
  it("an approval raised in an SSE send stream and answered over HTTP reaches the agent; the stream goes on to done", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "careful");
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "careful", sender: "alice", content: "clean up" });
    const started = await sse.next("started");
    const turn = (await agent.message(1)).request_id as string;
    expect(started.request_id).toBe(turn);
    agent.respond(turn, { tool_approval_request: { id: "rm-1", name: "bash", input_json: RM_INPUT } });
    expect(await sse.next("tool_approval")).toEqual({ id: "rm-1", input_json: RM_INPUT, name: "bash", request_id: turn });

    const pending = await httpJson(`${gw.httpUrl}/api/tools/pending?agent_id=careful`);
    expect(pending.json).toEqual({
      approvals: [
        {
          agent_id: "careful",
          request_id: turn,
          tool_id: "rm-1",
          tool_name: "bash",
          input_json: RM_INPUT,
          thread_id: started.thread_id,
          created_at: expect.any(String),
          expires_at: expect.any(String),
        },
      ],
    });
    const answer = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: "careful", tool_id: "rm-1", approved: true, approve_all: true });
    expect(answer).toEqual({ status: 200, json: { approved: true, success: true } });
    expect((await agent.stream.next("tool_approval")).tool_approval).toEqual({ id: "rm-1", approved: true, approve_all: true });

    agent.respond(turn, { tool_use: { id: "rm-1", name: "bash", input_json: RM_INPUT } });
    agent.respond(turn, { tool_result: { id: "rm-1", output: "removed", is_error: false } });
    agent.respond(turn, { text: "Cleaned." });
    agent.respond(turn, { done: { full_response: "Cleaned." } });
    const res = await sse.ended();
    expect(eventNames(res)).toEqual(["started", "tool_approval", "tool_use", "tool_result", "text", "done"]);
    expect(res.frames.at(-1)!.json).toEqual({ full_response: "Cleaned." });

    expect((await httpJson(`${gw.httpUrl}/api/tools/pending`)).json).toEqual({ approvals: [] });
    const again = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: "careful", tool_id: "rm-1", approved: false });
    expect(again).toEqual({ status: 409, json: { error: "tool approval already resolved" } });
  });

  it("an approval still pending after a StreamEvents client reconnects is shown again once and can be answered", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "asker");
    const c = openClient(cleanups, gw.grpcAddr);
    const first = await subscribe(cleanups, c, { conversation_key: "asker" });
    await sendMessage(c, "asker", "delete it", "approve-reconnect-1");
    const turn = (await agent.message(1)).request_id as string;
    agent.respond(turn, { tool_approval_request: { id: "rm-2", name: "bash", input_json: RM_INPUT } });
    await first.next("tool_approval");
    await first.cancel();

    // The client is gone; the approval is not: it is still listed and still re-emitted to the next subscriber.
    const listed = (await httpJson(`${gw.httpUrl}/api/tools/pending`)).json as { approvals: Array<{ tool_id: string }> };
    expect(listed.approvals.map((a) => a.tool_id)).toEqual(["rm-2"]);
    const second = await subscribe(cleanups, c, { conversation_key: "asker", since_event_id: first.events.at(-1)!.id });
    const prompt = await second.next("tool_approval");
    expect(prompt.tool_approval).toEqual({ agent_id: "asker", request_id: turn, tool_id: "rm-2", tool_name: "bash", input_json: RM_INPUT });

    expect((await unary(c, "ApproveTool", { agent_id: "asker", tool_id: "rm-2", approved: false })).response).toEqual({ success: true });
    expect((await agent.stream.next("tool_approval")).tool_approval).toEqual({ id: "rm-2", approved: false, approve_all: false });
    agent.respond(turn, { tool_result: { id: "rm-2", output: "denied by user", is_error: true } });
    agent.respond(turn, { done: { full_response: "Skipped." } });
    await second.next("done");
    expect(second.frames.filter((f) => f.payload === "tool_approval")).toHaveLength(1);
    expect(second.events.map((e) => e.type)).toEqual(["tool_result", "message"]);
    const received = [...first.events, ...second.events].map((e) => e.id);
    expect(received).toEqual((await conversationEvents(c, "asker")).map((e) => e.id));
  });

  it("an approval that times out sends the agent a deny and leaves the pending list; a late answer is refused", async () => {
    const timeoutMs = 1_500;
    const gw = await startGateway(cleanups, { limits: { toolApprovalTimeoutMs: timeoutMs } });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "patient");
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "patient", sender: "bob", content: "deploy" });
    await sse.next("started");
    const turn = (await agent.message(1)).request_id as string;
    agent.respond(turn, { tool_approval_request: { id: "deploy-1", name: "deploy", input_json: "{}" } });
    await sse.next("tool_approval");

    const pending = (await httpJson(`${gw.httpUrl}/api/tools/pending?agent_id=patient`)).json as {
      approvals: Array<{ tool_id: string; created_at: string; expires_at: string }>;
    };
    expect(pending.approvals.map((a) => a.tool_id)).toEqual(["deploy-1"]);
    const [row] = pending.approvals;
    expect(Date.parse(row!.expires_at) - Date.parse(row!.created_at)).toBe(timeoutMs);

    const deny = await agent.stream.next("tool_approval", () => true, timeoutMs + 5_000);
    expect(deny.tool_approval).toEqual({ id: "deploy-1", approved: false, approve_all: false });
    expect((await httpJson(`${gw.httpUrl}/api/tools/pending?agent_id=patient`)).json).toEqual({ approvals: [] });
    const late = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: "patient", tool_id: "deploy-1", approved: true });
    expect(late).toEqual({ status: 409, json: { error: "tool approval already resolved" } });

    // The agent carries on with the deny, and the turn ends normally.
    agent.respond(turn, { text: "Not deploying: approval timed out." });
    agent.respond(turn, { done: {} });
    const res = await sse.ended();
    expect(eventNames(res)).toEqual(["started", "tool_approval", "text", "done"]);
    expect(agent.stream.received.filter((f) => f.payload === "tool_approval")).toHaveLength(1);
    const c = openClient(cleanups, gw.grpcAddr);
    const events = await conversationEvents(c, "patient");
    expect(events.map((e: EventFrame) => `${e.type}:${e.text}`)).toEqual(["message:deploy", "message:Not deploying: approval timed out."]);
  });
});
