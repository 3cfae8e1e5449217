// ABOUTME: A coven-tui-style client against the real composition root with auth on: GetMe, ListAgents, GetEvents,
// ABOUTME: StreamEvents, idempotent SendMessage (also under concurrent duplicates), ApproveTool and a reconnect.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import type { TestGateway } from "../support/gateway-harness.js";
import { startAuthGateway, seedPrincipal, tokenFor } from "../support/identity-fixtures.js";
import { bearerMetadata } from "../support/proto-client.js";
import { unary, type EventFrame } from "../rpc/support/conversation-clients.js";
import { connectAgent, conversationEvents, createCleanups, openClient, subscribe, waitUntil } from "./support/conversation-e2e.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function authGateway(): Promise<TestGateway> {
  const gw = await startAuthGateway();
  cleanups.add(() => gw.stop());
  return gw;
}

async function bearer(principalId: string): Promise<grpc.Metadata> {
  return bearerMetadata(await tokenFor(principalId));
}

describe("a coven-tui-style conversation through the whole gateway", () => {
  it("loads history, streams a turn with a tool approval across a reconnect, and ends with done, each event once", async () => {
    const gw = await authGateway();
    const db = gw.gateway.store.db;
    const agentPrincipal = await seedPrincipal(db, { type: "agent" });
    const user = await seedPrincipal(db, { type: "client", roles: ["member"], displayName: "tui-user" });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "coder", { name: "Coder", metadata: await bearer(agentPrincipal) });
    const c = openClient(cleanups, gw.grpcAddr);
    const auth = () => bearer(user);

    // An earlier turn is already in the history.
    const earlier = await unary<{ message_id: string }>(c, "SendMessage", { idempotency_key: "earlier", conversation_key: "coder", content: "hi" }, await auth());
    agent.respond((await agent.message(1)).request_id as string, { done: { full_response: "hello!" } });
    await waitUntil(async () => (await conversationEvents(c, "coder", await auth())).length === 2, "the earlier turn");

    // Start-up: who am I, which agents, what happened so far.
    expect((await unary(c, "GetMe", {}, await auth())).response).toMatchObject({ principal_id: user, principal_type: "client", roles: ["member"] });
    const agents = (await unary<{ agents: Array<{ id: string; name: string; connected: boolean }> }>(c, "ListAgents", {}, await auth())).response!.agents;
    expect(agents.map((a) => [a.id, a.name, a.connected])).toEqual([["coder", "Coder", true]]);
    const history = (await unary<{ events: EventFrame[]; has_more: boolean }>(c, "GetEvents", { conversation_key: "coder" }, await auth())).response!;
    expect(history.events.map((e) => e.text)).toEqual(["hi", "hello!"]);
    expect(history.events[0]!.id).toBe(earlier.response!.message_id);

    // Live from where the history ends.
    const first = await subscribe(cleanups, c, { conversation_key: "coder", since_event_id: history.events.at(-1)!.id }, await auth());
    const request = { idempotency_key: "tui-7f3a", conversation_key: "coder", content: "fix the bug" };
    const sent = await unary<{ status: string; message_id: string }>(c, "SendMessage", request, await auth());
    expect(sent.response!.status).toBe("accepted");
    const turn = (await agent.message(2)).request_id as string;
    agent.respond(turn, { text: "Let me look. " });
    agent.respond(turn, { tool_approval_request: { id: "edit-1", name: "edit", input_json: "{\"file\":\"a.ts\"}" } });
    expect((await first.next("tool_approval")).tool_approval).toMatchObject({ agent_id: "coder", request_id: turn, tool_id: "edit-1" });
    expect((await unary(c, "ApproveTool", { agent_id: "coder", tool_id: "edit-1", approved: true }, await auth())).response).toEqual({ success: true });
    expect((await agent.stream.next("tool_approval")).tool_approval).toEqual({ id: "edit-1", approved: true, approve_all: false });
    agent.respond(turn, { tool_use: { id: "edit-1", name: "edit", input_json: "{\"file\":\"a.ts\"}" } });
    await first.next("tool_use");

    // The network drops; the turn goes on meanwhile.
    await first.cancel();
    agent.respond(turn, { tool_result: { id: "edit-1", output: "patched", is_error: false } });
    await waitUntil(async () => (await conversationEvents(c, "coder", await auth())).some((e) => e.type === "tool_result"), "the tool_result row");

    // Reconnect from the last event seen, and retry the send as a client unsure of its outcome would.
    const second = await subscribe(cleanups, c, { conversation_key: "coder", since_event_id: first.events.at(-1)!.id }, await auth());
    const retry = await unary(c, "SendMessage", request, await auth());
    expect(retry.response).toEqual({ status: "duplicate", message_id: sent.response!.message_id });
    agent.respond(turn, { text: "Done." });
    agent.respond(turn, { usage: { input_tokens: 12, output_tokens: 4 } });
    agent.respond(turn, { done: {} });
    expect((await second.next("done")).done).toEqual({ full_response: "Let me look. Done." });
    await second.next("event", (f) => (f.event as EventFrame).text === "Let me look. Done.");
    expect(agent.messages).toHaveLength(2);

    // History + both live streams = the ledger, each event exactly once, in order.
    const received = [...history.events, ...first.events, ...second.events].map((e) => e.id);
    expect(new Set(received).size).toBe(received.length);
    const ledger = await conversationEvents(c, "coder", await auth());
    expect(received).toEqual(ledger.map((e) => e.id));
    expect(ledger.map((e) => `${e.type}:${e.author}`)).toEqual([
      "message:client",
      "message:agent:coder",
      "message:client",
      "tool_call:agent:coder",
      "tool_result:agent:coder",
      "message:agent:coder",
    ]);
    expect(second.frames.filter((f) => f.payload === "tool_approval")).toEqual([]);
    expect(second.events.map((e) => e.type)).toEqual(["tool_result", "message"]);
  });

  it("answers concurrent duplicate SendMessage calls with one turn and the original message_id, per principal", async () => {
    const gw = await authGateway();
    const db = gw.gateway.store.db;
    const agentPrincipal = await seedPrincipal(db, { type: "agent" });
    const alice = await seedPrincipal(db, { type: "client", roles: ["member"] });
    const bob = await seedPrincipal(db, { type: "client", roles: ["member"] });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "once", { metadata: await bearer(agentPrincipal) });
    const clients = Array.from({ length: 8 }, () => openClient(cleanups, gw.grpcAddr));
    const request = { idempotency_key: "dup-key", conversation_key: "once", content: "do it once" };

    const aliceAuth = await bearer(alice);
    const outcomes = await Promise.all(clients.map((c) => unary<{ status: string; message_id: string }>(c, "SendMessage", request, aliceAuth)));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const statuses = outcomes.map((o) => o.response!.status).sort();
    expect(statuses).toEqual(["accepted", ...Array.from({ length: 7 }, () => "duplicate")]);
    const messageId = outcomes.find((o) => o.response!.status === "accepted")!.response!.message_id;
    expect(new Set(outcomes.map((o) => o.response!.message_id))).toEqual(new Set([messageId]));

    const changed = await unary(clients[0]!, "SendMessage", { ...request, content: "do it twice" }, aliceAuth);
    expect(changed).toMatchObject({ ok: false, code: grpc.status.ALREADY_EXISTS, details: "idempotency_key reused with different content" });

    // Another principal's key space is its own.
    const bobs = await unary<{ status: string; message_id: string }>(clients[1]!, "SendMessage", request, await bearer(bob));
    expect(bobs.response!.status).toBe("accepted");
    expect(bobs.response!.message_id).not.toBe(messageId);

    await agent.message(2);
    for (const message of agent.messages) agent.respond(message.request_id as string, { done: { full_response: "ok" } });
    const ledger = await waitForLedger(clients[0]!, "once", aliceAuth, 4);
    expect(ledger.filter((e) => e.direction === "inbound_to_agent").map((e) => e.id)).toEqual([messageId, bobs.response!.message_id]);
    expect(agent.messages).toHaveLength(2);
  });
});

async function waitForLedger(c: Parameters<typeof conversationEvents>[0], key: string, auth: grpc.Metadata, count: number): Promise<EventFrame[]> {
  let events: EventFrame[] = [];
  await waitUntil(async () => (events = await conversationEvents(c, key, auth)).length === count, `${count} ledger events`);
  return events;
}
