// ABOUTME: The checks of POST /api/send and POST /api/agents/{id}/send in the spec's order: body, required fields,
// ABOUTME: idempotency (duplicate, 422), routing (503, bindings), dispatch failures (404, 500), thread rules.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { raceClock } from "./support/race-clock.js";
import type { BindingLookup } from "../../src/conversation/send-target.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";
import { openSse } from "./support/sse-client.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function post(url: string, payload: unknown, headers: Record<string, string> = {}) {
  const res = await h!.app.inject({ method: "POST", url, payload: typeof payload === "string" ? payload : JSON.stringify(payload), headers });
  return { status: res.statusCode, body: res.body, json: () => res.json() as Record<string, unknown> };
}

describe("POST /api/send checks", () => {
  it("runs method, body, content, sender, idempotency key, routing in that order", async () => {
    h = await createHttpHarness();
    expect((await h.app.inject({ method: "GET", url: "/api/send", payload: "{" })).statusCode).toBe(405);
    expect((await post("/api/send", "{")).json()).toEqual({ error: "invalid JSON body" });
    expect((await post("/api/send", { sender: 5 })).json()).toEqual({ error: "invalid JSON body" });
    expect((await post("/api/send", { content: "", sender: "" })).json()).toEqual({ error: "content is required" });
    expect((await post("/api/send", { content: "hi" })).json()).toEqual({ error: "sender is required" });
    const long = "k".repeat(101);
    expect((await post("/api/send", { content: "hi", sender: "me" }, { "idempotency-key": long })).json()).toEqual({
      error: "idempotency key too long",
    });
    const ok = "k".repeat(100);
    expect((await post("/api/send", { content: "hi", sender: "me" }, { "idempotency-key": ok })).json()).toEqual({
      error: "must specify agent_id or frontend+channel_id",
    });
  });

  it("routes by agent_id first: an unknown agent is 503 agent unavailable whatever the channel", async () => {
    h = await createHttpHarness();
    const res = await post("/api/send", { content: "hi", sender: "me", agent_id: "ghost", frontend: "slack", channel_id: "c1" });
    expect(res.status).toBe(503);
    expect(res.body).toBe('{"error":"agent unavailable"}\n');
  });

  it("answers 400 channel not bound for a frontend+channel_id without a binding, and needs both", async () => {
    h = await createHttpHarness();
    expect((await post("/api/send", { content: "hi", sender: "me", frontend: "slack", channel_id: "c1" })).json()).toEqual({
      error: "channel not bound to agent",
    });
    expect((await post("/api/send", { content: "hi", sender: "me", frontend: "slack" })).json()).toEqual({
      error: "must specify agent_id or frontend+channel_id",
    });
    expect((await post("/api/send", { content: "hi", sender: "me", channel_id: "c1" })).status).toBe(400);
  });

  it("uses a plugged-in binding lookup: unavailable is 503, a bound agent gets the channel's thread", async () => {
    const bindings: BindingLookup = {
      route: async (frontend, channelId) =>
        channelId === "offline" ? { kind: "unavailable" } : frontend === "slack" ? { kind: "agent", agentId: "a1" } : { kind: "unbound" },
    };
    h = await createHttpHarness({ deps: { bindings } });
    const agent = await h.connectAgent({ agentId: "a1" });
    expect((await post("/api/send", { content: "hi", sender: "me", frontend: "slack", channel_id: "offline" })).status).toBe(503);
    const url = await h.listen();
    const sse = await openSse(url, "/api/send", { body: { content: "hi", sender: "me", frontend: "slack", channel_id: "c1" } });
    const sent = await agent.nextSendMessage();
    agent.respond(sent.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    await sse.ended;
    const thread = await h.threads.findByPair("slack", "c1");
    expect(thread?.id).toBe(sent.threadId);
    expect(thread?.agentId).toBe("a1");
  });

  it("answers 500 when dispatch fails, keeping the user message and an error row", async () => {
    h = await createHttpHarness();
    await h.connectAgent({ agentId: "a1", failWritesOf: "send_message" });
    const res = await post("/api/send", { content: "hi", sender: "me", agent_id: "a1" });
    expect(res.status).toBe(500);
    expect(res.body).toBe('{"error":"internal server error"}\n');
    const logged = h.log.entries.find((e) => e.msg === "http request failed");
    expect(logged?.attrs.cause).toMatchObject({ code: "UNAVAILABLE", message: "agent unavailable" });
    const page = await h.ledger.listConversation({ conversationKey: "a1" });
    expect(page.events.map((e) => [e.type, e.author, e.text])).toEqual([
      ["message", "me", "hi"],
      ["error", "system", "agent unavailable"],
    ]);
  });

  it("answers 404 agent not found when the agent vanished between routing and dispatch", async () => {
    const clock = raceClock();
    h = await createHttpHarness({ clock });
    const agent = await h.connectAgent({ agentId: "a1" });
    // The turn pipeline's first clock read comes after routing found the agent and before the dispatch.
    clock.arm("conversation-service", () => agent.disconnect());
    const res = await post("/api/send", { content: "hi", sender: "me", agent_id: "a1" });
    expect(clock.armed).toBe(false);
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ error: "agent not found" });
    const page = await h.ledger.listConversation({ conversationKey: "a1" });
    expect(page.events.map((e) => e.text)).toEqual(["hi", "agent not found"]);
  });
});

describe("idempotent sends", () => {
  it("answers a repeated key with the same content 200 JSON duplicate and sends nothing", async () => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const body = { content: "hi", sender: "me", agent_id: "a1" };
    const first = await openSse(url, "/api/send", { body, headers: { "idempotency-key": "key-1" } });
    const sent = await agent.nextSendMessage();
    agent.respond(sent.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    await first.ended;
    const started = first.events()[0]?.data as { message_id: string; thread_id: string };
    agent.disconnect();
    const again = await post("/api/send", body, { "idempotency-key": "key-1" });
    expect(again.status).toBe(200);
    expect(again.body).toBe(`{"status":"duplicate","message_id":"${started.message_id}","thread_id":"${started.thread_id}"}\n`);
    expect(agent.frames.filter((f) => f.kind === "send_message")).toHaveLength(1);
  });

  it("answers 422 when the key is reused with different content", async () => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const first = await openSse(url, "/api/send", { body: { content: "hi", sender: "me", agent_id: "a1" }, headers: { "idempotency-key": "k" } });
    const sent = await agent.nextSendMessage();
    agent.respond(sent.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    await first.ended;
    const res = await post("/api/send", { content: "other", sender: "me", agent_id: "a1" }, { "idempotency-key": "k" });
    expect(res.status).toBe(422);
    expect(res.body).toBe('{"error":"idempotency key reused with different content"}\n');
  });

  it("still answers duplicates and 422 through the service when the early lookup misses", async () => {
    h = await createHttpHarness({ deps: { idempotency: { find: async () => undefined } } });
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const first = await openSse(url, "/api/agents/a1/send", { body: { message: "go" }, headers: { "idempotency-key": "k" } });
    const sent = await agent.nextSendMessage();
    agent.respond(sent.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    await first.ended;
    const dup = await post("/api/agents/a1/send", { message: "go" }, { "idempotency-key": "k" });
    expect(dup.json()).toMatchObject({ status: "duplicate", message_id: (first.events()[0]?.data as { message_id: string }).message_id });
    expect((await post("/api/agents/a1/send", { message: "stop" }, { "idempotency-key": "k" })).status).toBe(422);
  });
});

describe("POST /api/agents/{id}/send", () => {
  it("runs method, id, body, message, idempotency key, agent checks in that order", async () => {
    h = await createHttpHarness();
    expect((await h.app.inject({ method: "GET", url: "/api/agents/a..b/send" })).statusCode).toBe(405);
    expect((await post("/api/agents/a..b/send", "{")).json()).toEqual({ error: "invalid path or agent_id" });
    expect((await post("/api/agents/a1/send", "[1]")).json()).toEqual({ error: "invalid JSON body" });
    expect((await post("/api/agents/a1/send", { message: "" })).json()).toEqual({ error: "message is required" });
    expect((await post("/api/agents/a1/send", { message: "go" }, { "idempotency-key": "x".repeat(101) })).json()).toEqual({
      error: "idempotency key too long",
    });
    const res = await post("/api/agents/a1/send", { message: "go" });
    expect(res.status).toBe(404);
    expect(res.body).toBe('{"error":"agent not found"}\n');
  });

  it("opens a new leader thread on every call and records the sender coven-leader", async () => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const threadIds: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const sse = await openSse(url, "/api/agents/a1/send", { body: { message: `m${i}` } });
      const sent = await agent.nextSendMessage();
      expect(sent.sender).toBe("coven-leader");
      agent.respond(sent.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
      await sse.ended;
      threadIds.push((sse.events()[0]?.data as { thread_id: string }).thread_id);
    }
    expect(new Set(threadIds).size).toBe(2);
    for (const id of threadIds) {
      const thread = await h.threads.findById(id);
      expect(thread?.frontendName).toBe("leader");
      expect(thread?.externalId).toMatch(/^leader:[0-9a-f-]{36}$/);
      expect(thread?.externalId).not.toBe(`leader:${id}`);
    }
    const events = await h.ledger.listConversation({ conversationKey: "a1" });
    expect(events.events.filter((e) => e.direction === "inbound_to_agent").map((e) => [e.author, e.actorPrincipalId])).toEqual([
      ["coven-leader", "anonymous"],
      ["coven-leader", "anonymous"],
    ]);
  });
});

describe("thread rules of /api/send with agent_id", () => {
  it("keeps a given thread_id (external_id = the thread id) and makes a new UUID otherwise", async () => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const given = randomUUID();
    const run = async (body: Record<string, string>) => {
      const sse = await openSse(url, "/api/send", { body: { content: "hi", sender: "me", agent_id: "a1", ...body } });
      const sent = await agent.nextSendMessage();
      agent.respond(sent.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
      await sse.ended;
      return (sse.events()[0]?.data as { thread_id: string }).thread_id;
    };
    expect(await run({ thread_id: given })).toBe(given);
    const thread = await h.threads.findById(given);
    expect([thread?.frontendName, thread?.externalId]).toEqual(["direct", given]);
    expect(await run({ thread_id: given })).toBe(given);
    const fresh = await run({});
    expect(fresh).not.toBe(given);
    expect(fresh).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
