// ABOUTME: Channel bindings through the real composition root: POST /api/bindings by instance_id, then POST /api/send
// ABOUTME: {frontend, channel_id} routes to that agent on the thread (frontend, channel_id), across an agent reconnect.
import { afterEach, describe, expect, it } from "vitest";
import { createThreadRepository } from "../../src/store/thread-repository.js";
import { connectAgent, createCleanups, eventNames, httpJson, SseSession, startGateway, waitUntil } from "./support/conversation-e2e.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

describe("bindings route /api/send by frontend + channel_id", () => {
  it("binds a channel to an agent instance; sends on it reach that agent on the channel's thread", async () => {
    const gw = await startGateway(cleanups);
    const { agent: bound, welcome } = await connectAgent(cleanups, gw.grpcAddr, "bound", { name: "Bound", workingDir: "/srv/bound" });
    const { agent: other } = await connectAgent(cleanups, gw.grpcAddr, "other", { workingDir: "/srv/other" });
    const instanceId = welcome.instance_id as string;
    expect(instanceId).toMatch(/^.{12}$/);

    const unbound = await httpJson(`${gw.httpUrl}/api/send`, "POST", { frontend: "slack", channel_id: "C42", sender: "u1", content: "hello" });
    expect(unbound).toEqual({ status: 400, json: { error: "channel not bound to agent" } });

    const created = await httpJson(`${gw.httpUrl}/api/bindings`, "POST", { frontend: "slack", channel_id: "C42", instance_id: instanceId });
    expect(created).toEqual({
      status: 201,
      json: { binding_id: expect.any(String), agent_name: "Bound", working_dir: "/srv/bound", rebound_from: null },
    });
    const lookup = await httpJson(`${gw.httpUrl}/api/bindings?frontend=slack&channel_id=C42`);
    expect(lookup).toEqual({ status: 200, json: { binding_id: created.json!.binding_id, agent_name: "Bound", working_dir: "/srv/bound", online: true } });

    const first = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { frontend: "slack", channel_id: "C42", sender: "u1", content: "hello" });
    const started = await first.next("started");
    const message = await bound.message(1);
    expect(message).toMatchObject({ request_id: started.request_id, thread_id: started.thread_id, sender: "u1", content: "hello" });
    bound.respond(message.request_id as string, { done: { full_response: "hi from bound" } });
    expect(eventNames(await first.ended())).toEqual(["started", "done"]);

    const thread = await createThreadRepository(gw.gateway.store.db).findByPair("slack", "C42");
    expect(thread).toMatchObject({ id: started.thread_id, frontendName: "slack", externalId: "C42", agentId: "bound" });

    // The same channel keeps its thread; the conversation_key is the agent's id.
    const second = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { frontend: "slack", channel_id: "C42", sender: "u2", content: "again" });
    expect((await second.next("started")).thread_id).toBe(started.thread_id);
    bound.respond((await bound.message(2)).request_id as string, { done: { full_response: "still me" } });
    expect(eventNames(await second.ended())).toEqual(["started", "done"]);
    expect(other.messages).toEqual([]);
    const history = (await httpJson(`${gw.httpUrl}/api/agents/bound/history`)).json as { events: Array<{ text: string; thread_id: string }> };
    expect(history.events.map((e) => [e.text, e.thread_id])).toEqual([
      ["hello", started.thread_id],
      ["hi from bound", started.thread_id],
      ["again", started.thread_id],
      ["still me", started.thread_id],
    ]);
    const messages = (await httpJson(`${gw.httpUrl}/api/threads/${started.thread_id as string}/messages`)).json as { messages: Array<{ sender: string }> };
    expect(messages.messages.map((m) => m.sender)).toEqual(["u1", "agent:bound", "u2", "agent:bound"]);
  });

  it("keeps routing to the bound principal and working dir after the agent reconnects, and 503s while it is away", async () => {
    const gw = await startGateway(cleanups);
    const { agent: before, welcome } = await connectAgent(cleanups, gw.grpcAddr, "roamer", { workingDir: "/srv/roamer" });
    const created = await httpJson(`${gw.httpUrl}/api/bindings`, "POST", { frontend: "matrix", channel_id: "!room", instance_id: welcome.instance_id });
    expect(created.status).toBe(201);

    before.close();
    await waitUntil(async () => ((await httpJson(`${gw.httpUrl}/api/agents`)).json as unknown as unknown[]).length === 0, "the agent to go offline");
    const away = await httpJson(`${gw.httpUrl}/api/send`, "POST", { frontend: "matrix", channel_id: "!room", sender: "u", content: "anyone?" });
    expect(away).toEqual({ status: 503, json: { error: "agent unavailable" } });

    const { agent: after, welcome: again } = await connectAgent(cleanups, gw.grpcAddr, "roamer", { workingDir: "/srv/roamer" });
    expect(again.instance_id).not.toBe(welcome.instance_id);
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { frontend: "matrix", channel_id: "!room", sender: "u", content: "back?" });
    await sse.next("started");
    after.respond((await after.message(1)).request_id as string, { done: { full_response: "back" } });
    expect(eventNames(await sse.ended())).toEqual(["started", "done"]);
  });
});
