// ABOUTME: The binding path of POST /api/send (http-api.md §11 rule 2, §12): principal AND working_dir matching,
// ABOUTME: newest connection wins, 400 unbound, 503 unavailable, and the thread row the message lands in.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentInfo } from "../../src/agent/agent-connection.js";
import { findBoundAgent } from "../../src/conversation/binding-lookup.js";
import { createBindingRepository } from "../../src/store/binding-repository.js";
import type { FakeAgent } from "./support/fake-agent-io.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";
import { openSse } from "./support/sse-client.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const NOW = "2024-01-15T10:00:00.000Z";

async function bindChannel(harness: HttpHarness, channelId: string, agentId: string, workingDir = "") {
  await createBindingRepository(harness.store.db).insert({ frontend: "slack", channelId, agentId, workingDir, now: NOW });
}

/** Resolves once the wall clock moved past the current millisecond, so connection times differ. */
async function nextMillisecond(): Promise<void> {
  const start = Date.now();
  while (Date.now() === start) await new Promise((resolve) => setImmediate(resolve));
}

function baseUrl(harness: HttpHarness): string {
  const address = harness.app.server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return `http://127.0.0.1:${address.port}`;
}

async function post(payload: unknown) {
  const res = await h!.app.inject({ method: "POST", url: "/api/send", payload: JSON.stringify(payload) });
  return { status: res.statusCode, body: res.body };
}

/** Sends through the binding on a real listener and lets `agent` answer; returns what the agent received. */
async function sendVia(harness: HttpHarness, agent: FakeAgent, body: Record<string, string>) {
  const url = harness.app.server.listening ? baseUrl(harness) : await harness.listen();
  const sse = await openSse(url, "/api/send", { body: { content: "hi", sender: "me", frontend: "slack", ...body } });
  expect(sse.status).toBe(200);
  const sent = await agent.nextSendMessage();
  agent.respond(sent.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
  await sse.ended;
  return { sent, started: sse.events()[0]?.data as Record<string, string> };
}

describe("POST /api/send via a binding", () => {
  it("answers 400 channel not bound to agent without a binding", async () => {
    h = await createHttpHarness();
    await h.connectAgent({ agentId: "a1", principalId: "p-one" });
    const res = await post({ content: "hi", sender: "me", frontend: "slack", channel_id: "c1" });
    expect([res.status, res.body]).toEqual([400, '{"error":"channel not bound to agent"}\n']);
  });

  it("answers 503 agent unavailable when no connection matches both principal and working_dir", async () => {
    h = await createHttpHarness();
    await bindChannel(h, "c1", "p-one", "/w/a");
    await h.connectAgent({ agentId: "a1", principalId: "p-one", workingDir: "/w/b" });
    await h.connectAgent({ agentId: "a2", principalId: "p-two", workingDir: "/w/a" });
    await h.connectAgent({ agentId: "a3", principalId: "p-one" });
    const res = await post({ content: "hi", sender: "me", frontend: "slack", channel_id: "c1" });
    expect([res.status, res.body]).toEqual([503, '{"error":"agent unavailable"}\n']);
  });

  it("routes to the most recently connected matching agent and lands in the channel's thread", async () => {
    h = await createHttpHarness();
    await bindChannel(h, "c1", "p-one", "/w");
    const older = await h.connectAgent({ agentId: "z-older", principalId: "p-one", workingDir: "/w" });
    await nextMillisecond();
    const newest = await h.connectAgent({ agentId: "a-newest", principalId: "p-one", workingDir: "/w" });
    await nextMillisecond();
    await h.connectAgent({ agentId: "m-other-dir", principalId: "p-one", workingDir: "/w2" });
    const { sent, started } = await sendVia(h, newest, { channel_id: "c1" });
    expect(older.frames.some((f) => f.kind === "send_message")).toBe(false);
    const thread = await h.threads.findByPair("slack", "c1");
    expect(thread).toMatchObject({ id: sent.threadId, frontendName: "slack", externalId: "c1", agentId: "a-newest" });
    expect(started.thread_id).toBe(sent.threadId);
    const page = await h.ledger.listConversation({ conversationKey: "a-newest" });
    expect(page.events.map((e) => [e.type, e.threadId, e.text])).toEqual([
      ["message", sent.threadId, "hi"],
      ["message", sent.threadId, "ok"],
    ]);
  });

  it("reuses the channel's thread on the next send and honours a given thread_id for a new thread", async () => {
    h = await createHttpHarness();
    await bindChannel(h, "c1", "anonymous");
    await bindChannel(h, "c2", "anonymous");
    const agent = await h.connectAgent({ agentId: "a1" });
    const first = await sendVia(h, agent, { channel_id: "c1" });
    const second = await sendVia(h, agent, { channel_id: "c1" });
    expect(second.sent.threadId).toBe(first.sent.threadId);
    const given = randomUUID();
    const third = await sendVia(h, agent, { channel_id: "c2", thread_id: given });
    expect(third.sent.threadId).toBe(given);
    expect(await h.threads.findById(given)).toMatchObject({ frontendName: "slack", externalId: "c2", agentId: "a1" });
  });
});

describe("findBoundAgent", () => {
  const info = (agentId: string, principalId: string, workingDir: string, at: number): AgentInfo =>
    ({ agentId, principalId, workingDir, connectedAt: new Date(at) }) as AgentInfo;

  it("matches principal and working_dir exactly and prefers the newest connection, then the greater agent_id", () => {
    const agents = [
      info("b", "p", "", 2),
      info("c", "p", "", 1),
      info("a", "p", "", 2),
      info("d", "p", "/x", 9),
      info("e", "q", "", 9),
    ];
    expect(findBoundAgent(agents, { agentId: "p", workingDir: "" })?.agentId).toBe("b");
    expect(findBoundAgent(agents, { agentId: "p", workingDir: "/x" })?.agentId).toBe("d");
    expect(findBoundAgent(agents, { agentId: "p", workingDir: "/x/" })).toBeUndefined();
    expect(findBoundAgent(agents, { agentId: "P", workingDir: "" })).toBeUndefined();
  });
});
