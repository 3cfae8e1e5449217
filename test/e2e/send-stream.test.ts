// ABOUTME: Whole-gateway flows: an independent grpc-js agent, HTTP POST /api/send, the SSE reply, the ledger.
// ABOUTME: Every event kind with its documented name and keys, terminal events, disconnects, restart and shutdown.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../support/proto-client.js";
import { keysSorted, postSse } from "../support/sse-client.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A promise with its resolver, for "the client has seen frame X" (Node 20 has no Promise.withResolvers). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function gatewayWithAgent(
  agentId: string,
  onMessage: (agent: ThirdPartyAgentStream, message: Record<string, unknown>) => void,
  options: Parameters<typeof startTestGateway>[0] = {},
): Promise<{ gw: TestGateway; agent: ThirdPartyAgentStream; client: grpc.Client }> {
  const gw = await startTestGateway(options);
  cleanups.push(() => gw.stop());
  const client = covenControlClient(gw.grpcAddr);
  cleanups.push(() => client.close());
  const agent = new ThirdPartyAgentStream(client as never);
  agent.call.on("data", (frame: ServerFrame) => {
    if (frame.payload === "send_message") onMessage(agent, frame.send_message as Record<string, unknown>);
  });
  agent.call.on("error", () => {});
  agent.register(agentId, { protocol_features: ["token_usage", "tool_states"] });
  await agent.next("welcome");
  cleanups.push(() => agent.cancel());
  return { gw, agent, client };
}

describe("POST /api/send through the whole gateway", () => {
  it("streams every event kind with the documented names and keys, then persists the turn", async () => {
    const { gw } = await gatewayWithAgent("all-kinds", (agent, msg) => {
      const id = msg.request_id as string;
      const r = (event: Record<string, unknown>) => agent.respond(id, event);
      r({ session_init: { session_id: "sess-1" } });
      r({ thinking: "planning" });
      r({ tool_use: { id: "t1", name: "bash", input_json: "{\"cmd\":\"ls\"}" } });
      r({ tool_state: { id: "t1", state: "TOOL_STATE_RUNNING" } });
      r({ tool_result: { id: "t1", output: "a.txt", is_error: false } });
      r({ file: { filename: "out.txt", mime_type: "text/plain", data: Buffer.from("secret bytes") } });
      r({ text: "Hello, " });
      r({ text: msg.content });
      r({ usage: { input_tokens: 100, output_tokens: 50, cache_read_tokens: 7, cache_write_tokens: 3, thinking_tokens: 2 } });
      r({ session_orphaned: { reason: "expired" } });
      r({ done: { full_response: "ignored because text arrived" } });
    });
    const res = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "all-kinds", sender: "alice", content: "world" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    expect(res.frames.map((f) => f.event)).toEqual([
      "started",
      "session_init",
      "thinking",
      "tool_use",
      "tool_state",
      "tool_result",
      "file",
      "text",
      "text",
      "usage",
      "session_orphaned",
      "done",
    ]);
    for (const frame of res.frames) expect(keysSorted(frame.json)).toBe(true);
    expect(res.raw).not.toMatch(/^id:|^retry:/m);
    const by = (name: string) => res.frames.find((f) => f.event === name)!.json;
    expect(Object.keys(by("started"))).toEqual(["message_id", "request_id", "thread_id"]);
    expect(by("session_init")).toEqual({ session_id: "sess-1" });
    expect(by("thinking")).toEqual({ text: "planning" });
    expect(by("tool_use")).toEqual({ id: "t1", input_json: "{\"cmd\":\"ls\"}", name: "bash" });
    expect(by("tool_state")).toEqual({ detail: "", id: "t1", state: "running" });
    expect(by("tool_result")).toEqual({ id: "t1", is_error: false, output: "a.txt" });
    expect(by("file")).toEqual({ filename: "out.txt", mime_type: "text/plain" });
    expect(by("usage")).toEqual({ cache_read_tokens: 7, cache_write_tokens: 3, input_tokens: 100, output_tokens: 50, thinking_tokens: 2 });
    expect(by("session_orphaned")).toEqual({ reason: "expired" });
    expect(by("done")).toEqual({ full_response: "ignored because text arrived" });
    expect(res.raw).not.toContain("secret bytes");

    const started = by("started") as { message_id: string; thread_id: string; request_id: string };
    const history = (await (await fetch(`${gw.httpUrl}/api/agents/all-kinds/history`)).json()) as {
      events: Array<{ id: string; direction: string; author: string; type: string; text?: string; thread_id?: string }>;
      usage: Record<string, number>;
    };
    expect(history.events.map((e) => [e.direction, e.author, e.type, e.text])).toEqual([
      ["inbound_to_agent", "alice", "message", "world"],
      ["outbound_from_agent", "agent:all-kinds", "tool_call", "{\"name\":\"bash\",\"id\":\"t1\",\"input\":{\"cmd\":\"ls\"}}"],
      ["outbound_from_agent", "agent:all-kinds", "tool_result", "{\"id\":\"t1\",\"output\":\"a.txt\",\"is_error\":false}"],
      ["outbound_from_agent", "agent:all-kinds", "message", "Hello, world"],
    ]);
    expect(history.events[0]!.id).toBe(started.message_id);
    expect(history.events.every((e) => e.thread_id === started.thread_id)).toBe(true);
    expect(history.usage).toMatchObject({ total_input: 100, total_output: 50, total_tokens: 152, request_count: 1 });
  });

  it("ends with error when the agent reports one, recording the partial text first", async () => {
    const { gw } = await gatewayWithAgent("failing", (agent, msg) => {
      agent.respond(msg.request_id as string, { text: "partial answer" });
      agent.respond(msg.request_id as string, { error: "backend exploded" });
      agent.respond(msg.request_id as string, { done: { full_response: "" } });
    });
    const res = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "failing", sender: "bob", content: "go" });
    expect(res.frames.map((f) => f.event)).toEqual(["started", "text", "error"]);
    expect(res.frames[2]!.json).toEqual({ error: "backend exploded" });
    const history = (await (await fetch(`${gw.httpUrl}/api/agents/failing/history`)).json()) as { events: Array<{ type: string; text?: string; author: string }> };
    expect(history.events.map((e) => [e.type, e.author, e.text])).toEqual([
      ["message", "bob", "go"],
      ["message", "agent:failing", "partial answer"],
      ["error", "agent:failing", "backend exploded"],
    ]);
  });

  it("ends with canceled when the agent cancels", async () => {
    const { gw } = await gatewayWithAgent("canceller", (agent, msg) => {
      agent.respond(msg.request_id as string, { cancelled: { reason: "user stop" } });
    });
    const res = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "canceller", sender: "bob", content: "go" });
    expect(res.frames.map((f) => [f.event, f.json])).toEqual([
      ["started", expect.any(Object)],
      ["canceled", { reason: "user stop" }],
    ]);
  });

  it("ends the client's stream with error 'agent disconnected' when the agent vanishes mid-turn", async () => {
    // The agent vanishes once the client holds the text, so the turn is mid-way when it goes.
    const textSeen = signal();
    const { gw } = await gatewayWithAgent("vanisher", (agent, msg) => {
      agent.respond(msg.request_id as string, { text: "half a tho" });
      void textSeen.promise.then(() => agent.cancel());
    });
    const res = await postSse(
      `${gw.httpUrl}/api/send`,
      { agent_id: "vanisher", sender: "bob", content: "go" },
      { onFrame: (f) => f.event === "text" && textSeen.resolve() },
    );
    expect(res.frames.map((f) => f.event)).toEqual(["started", "text", "error"]);
    expect(res.frames[2]!.data).toBe('{"error":"agent disconnected"}');
    const history = (await (await fetch(`${gw.httpUrl}/api/agents/vanisher/history`)).json()) as { events: Array<{ type: string; text?: string; author: string }> };
    expect(history.events.slice(1).map((e) => [e.type, e.author, e.text])).toEqual([
      ["message", "agent:vanisher", "half a tho"],
      ["error", "system", "agent disconnected"],
    ]);
  });

  it("answers 503 agent unavailable for an agent that is not connected, and records nothing", async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    const response = await fetch(`${gw.httpUrl}/api/send`, {
      method: "POST",
      body: JSON.stringify({ agent_id: "ghost", sender: "a", content: "b" }),
    });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('{"error":"agent unavailable"}\n');
  });

  it("keeps history across a gateway restart on the same database", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coven-restart-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await gatewayWithAgent(
      "persistent",
      (agent, msg) => {
        agent.respond(msg.request_id as string, { text: "remember me" });
        agent.respond(msg.request_id as string, { done: { full_response: "" } });
      },
      { dir },
    );
    const res = await postSse(`${first.gw.httpUrl}/api/send`, { agent_id: "persistent", sender: "carol", content: "hi" });
    expect(res.frames.at(-1)!.event).toBe("done");
    first.agent.cancel();
    await first.gw.stop();

    const second = await startTestGateway({ dir });
    cleanups.push(() => second.stop());
    const history = (await (await fetch(`${second.httpUrl}/api/agents/persistent/history`)).json()) as { events: Array<{ text?: string }>; count: number };
    expect(history.count).toBe(2);
    expect(history.events.map((e) => e.text)).toEqual(["hi", "remember me"]);
  });

  it("on stop: tells the agent Shutdown, ends the open SSE stream with 'gateway shutting down', then closes", async () => {
    const { gw, agent } = await gatewayWithAgent(
      "slowpoke",
      (a, msg) => a.respond(msg.request_id as string, { text: "working..." }),
      { limits: { shutdownTimeoutMs: 300 } },
    );
    const textSeen = signal();
    const pending = postSse(
      `${gw.httpUrl}/api/send`,
      { agent_id: "slowpoke", sender: "dave", content: "long job" },
      { onFrame: (f) => f.event === "text" && textSeen.resolve() },
    );
    await agent.next("send_message");
    await textSeen.promise;
    const stopping = gw.stop();
    expect((await agent.next("shutdown")).shutdown).toEqual({ reason: "gateway shutting down" });
    const res = await pending;
    expect(res.frames.map((f) => f.event)).toEqual(["started", "text", "error"]);
    expect(res.frames[2]!.json).toEqual({ error: "gateway shutting down" });
    await stopping;
    const status = await agent.status;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    await expect(fetch(`${gw.httpUrl}/health`)).rejects.toThrow();
  });

  it("on stop: a turn whose agent leaves on Shutdown still ends with 'gateway shutting down', not 'agent disconnected'", async () => {
    const { gw, agent } = await gatewayWithAgent(
      "leaver",
      (a, msg) => a.respond(msg.request_id as string, { text: "working..." }),
      { limits: { shutdownTimeoutMs: 2_000 } },
    );
    const textSeen = signal();
    const pending = postSse(
      `${gw.httpUrl}/api/send`,
      { agent_id: "leaver", sender: "erin", content: "long job" },
      { onFrame: (f) => f.event === "text" && textSeen.resolve() },
    );
    await agent.next("send_message");
    await textSeen.promise;
    const stopping = gw.stop();
    await agent.next("shutdown");
    agent.cancel();
    const res = await pending;
    expect(res.frames.map((f) => f.event)).toEqual(["started", "text", "error"]);
    expect(res.frames[2]!.json).toEqual({ error: "gateway shutting down" });
    await stopping;
  });
});
