// ABOUTME: A coven-tui-style session end to end over ClientService with auth on: GetMe, ListAgents, GetEvents,
// ABOUTME: StreamEvents, idempotent SendMessage, ApproveTool, a reconnect and the done, with no event lost or repeated.
import { afterEach, describe, expect, it } from "vitest";
import type * as grpc from "@grpc/grpc-js";
import { bearerMetadata } from "../support/proto-client.js";
import { conversationClient, EventStreamReader, ScriptedAgent, unary, type EventFrame } from "./support/conversation-clients.js";
import { startConversationRpc, type ConversationRpcHarness } from "./support/conversation-rpc-harness.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe("a coven-tui-style conversation", () => {
  it("loads history, streams a turn with a tool approval across a reconnect, and ends with done", async () => {
    const h: ConversationRpcHarness = await startConversationRpc({ isAuthEnabled: true });
    cleanups.push(() => h.stop());
    const agentPrincipal = await h.seedPrincipal({ type: "agent" });
    const user = await h.seedPrincipal({ type: "client", roles: ["member"] });
    const agent = await ScriptedAgent.connect(h.addr, "coder", { name: "Coder", metadata: bearerMetadata(await h.tokenFor(agentPrincipal)) });
    cleanups.push(() => agent.close());
    const c = conversationClient(h.addr);
    cleanups.push(() => c.close());
    const auth = (): Promise<grpc.Metadata> => h.tokenFor(user).then((t) => bearerMetadata(t));

    // An earlier turn is already in the history.
    const earlier = await unary<{ message_id: string }>(c, "SendMessage", { idempotency_key: "earlier", conversation_key: "coder", content: "hi" }, await auth());
    agent.respond((await agent.message(1)).request_id as string, { done: { full_response: "hello!" } });
    await waitFor(async () => (await h.ledger.listConversation({ conversationKey: "coder" })).events.length === 2);

    // Start-up: who am I, which agents, what happened so far.
    expect((await unary(c, "GetMe", {}, await auth())).response).toMatchObject({ principal_id: user, principal_type: "client", roles: ["member"] });
    const agents = (await unary<{ agents: Array<{ id: string; name: string }> }>(c, "ListAgents", {}, await auth())).response!.agents;
    expect(agents.map((a) => [a.id, a.name])).toEqual([["coder", "Coder"]]);
    const history = (await unary<{ events: EventFrame[]; has_more: boolean }>(c, "GetEvents", { conversation_key: "coder" }, await auth())).response!;
    expect(history.events.map((e) => e.text)).toEqual(["hi", "hello!"]);
    expect(history.events[0]!.id).toBe(earlier.response!.message_id);

    // Live from where the history ends.
    const first = new EventStreamReader(c, { conversation_key: "coder", since_event_id: history.events.at(-1)!.id }, await auth());
    cleanups.push(() => first.call.cancel());
    await first.headers;
    const request = { idempotency_key: "tui-7f3a", conversation_key: "coder", content: "fix the bug" };
    const sent = await unary<{ status: string; message_id: string }>(c, "SendMessage", request, await auth());
    expect(sent.response!.status).toBe("accepted");
    const turn = (await agent.message(2)).request_id as string;
    agent.respond(turn, { text: "Let me look. " });
    agent.respond(turn, { tool_approval_request: { id: "edit-1", name: "edit", input_json: "{\"file\":\"a.ts\"}" } });
    const prompt = await first.next("tool_approval");
    expect(prompt.tool_approval).toMatchObject({ agent_id: "coder", request_id: turn, tool_id: "edit-1" });
    expect((await unary(c, "ApproveTool", { agent_id: "coder", tool_id: "edit-1", approved: true }, await auth())).response).toEqual({ success: true });
    expect((await agent.stream.next("tool_approval")).tool_approval).toEqual({ id: "edit-1", approved: true, approve_all: false });
    agent.respond(turn, { tool_use: { id: "edit-1", name: "edit", input_json: "{\"file\":\"a.ts\"}" } });
    await first.next("tool_use");

    // The network drops; the turn goes on meanwhile.
    await first.cancel();
    agent.respond(turn, { tool_result: { id: "edit-1", output: "patched", is_error: false } });
    await waitFor(async () => (await h.ledger.findByRequestId(turn)).some((e) => e.type === "tool_result"));

    // Reconnect from the last event seen, and retry the send as a client unsure of its outcome would.
    const second = new EventStreamReader(c, { conversation_key: "coder", since_event_id: first.events.at(-1)!.id }, await auth());
    cleanups.push(() => second.call.cancel());
    await second.headers;
    const retry = await unary<{ status: string; message_id: string }>(c, "SendMessage", request, await auth());
    expect(retry.response).toEqual({ status: "duplicate", message_id: sent.response!.message_id });
    agent.respond(turn, { text: "Done." });
    agent.respond(turn, { usage: { input_tokens: 12, output_tokens: 4 } });
    agent.respond(turn, { done: {} });
    const done = await second.next("done");
    expect(done.done).toEqual({ full_response: "Let me look. Done." });
    expect(agent.messages).toHaveLength(2);

    // History + both streams = the ledger, each event exactly once, in order.
    const received = [...history.events, ...first.events, ...second.events].map((e) => e.id);
    expect(new Set(received).size).toBe(received.length);
    const ledger = (await h.ledger.listConversation({ conversationKey: "coder" })).events;
    expect(received).toEqual(ledger.map((e) => e.eventId));
    expect(ledger.map((e) => `${e.type}:${e.author}`)).toEqual([
      "message:client",
      `message:agent:coder`,
      "message:client",
      "tool_call:agent:coder",
      "tool_result:agent:coder",
      "message:agent:coder",
    ]);
    expect(ledger[2]!.actorPrincipalId).toBe(user);
    // The answered approval is not shown again, and nothing of the first stream was replayed.
    expect(second.frames.filter((f) => f.payload === "tool_approval")).toEqual([]);
    expect(second.events.map((e) => e.type)).toEqual(["tool_result", "message"]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
