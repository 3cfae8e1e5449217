// ABOUTME: builtin:admin and builtin:ui through a whole gateway with independent grpc-js agents (packs-mcp.md §5.4, §5.5):
// ABOUTME: agent listing, ledger paging with usage, admin_send_message through the turn pipeline, ask_user answered three ways.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { callUnary, clientServiceClient, covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../support/proto-client.js";
import { EventStreamReader } from "../rpc/support/conversation-clients.js";
import { postSse } from "../support/sse-client.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

type Responder = (agent: ThirdPartyAgentStream, message: { request_id: string; content: string; sender: string; thread_id: string }) => void;

async function setup() {
  const gw = await startTestGateway();
  cleanups.push(() => gw.stop());
  const control = covenControlClient(gw.grpcAddr);
  cleanups.push(() => control.close());
  const client = clientServiceClient(gw.grpcAddr);
  cleanups.push(() => client.close());
  const openAgent = async (agentId: string, capabilities: string[], onMessage?: Responder, extra: Record<string, unknown> = {}) => {
    const agent = new ThirdPartyAgentStream(control);
    agent.call.on("error", () => {});
    cleanups.push(() => agent.cancel());
    if (onMessage) {
      agent.call.on("data", (frame: ServerFrame) => {
        if (frame.payload === "send_message") onMessage(agent, frame.send_message as Parameters<Responder>[1]);
      });
    }
    agent.register(agentId, { capabilities, ...extra });
    await agent.next("welcome");
    return agent;
  };
  let n = 0;
  const call = async (agent: ThirdPartyAgentStream, tool: string, input: unknown = {}, timeoutMs = 5_000) => {
    const requestId = `call-${++n}`;
    agent.send({ execute_pack_tool: { request_id: requestId, tool_name: tool, input_json: JSON.stringify(input) } });
    const frame = await agent.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === requestId, timeoutMs);
    const result = frame.pack_tool_result as { output_json?: string; error?: string; result: string };
    return result.result === "error" ? { error: result.error } : { output: result.output_json as string };
  };
  const parsed = async (agent: ThirdPartyAgentStream, tool: string, input: unknown = {}) => {
    const r = await call(agent, tool, input);
    if (r.output === undefined) throw new Error(`tool failed: ${r.error}`);
    return JSON.parse(r.output) as Record<string, unknown>;
  };
  return { gw, client, openAgent, call, parsed };
}

const streamEvents = (gw: TestGateway, client: ReturnType<typeof clientServiceClient>, agentId: string) => {
  const reader = new EventStreamReader(client, { conversation_key: agentId });
  cleanups.push(() => reader.call.cancel());
  return reader;
};

describe("builtin:admin", () => {
  it("lists connected agents sorted by id with the spec's keys", async () => {
    const { openAgent, call } = await setup();
    const boss = await openAgent("zeta-boss", ["admin"]);
    await openAgent("alpha", ["chat", "base"], undefined, {
      name: "Alpha",
      metadata: { working_directory: "/w/a", hostname: "h", os: "linux", workspaces: ["ws1"], backend: "acp" },
    });
    const { output } = await call(boss, "admin_list_agents", "not even an object");
    const listed = JSON.parse(output!) as { agents: Array<Record<string, unknown>>; count: number };
    expect(listed.count).toBe(2);
    expect(listed.agents.map((a) => a.id)).toEqual(["alpha", "zeta-boss"]);
    const alpha = listed.agents[0]!;
    expect(Object.keys(alpha)).toEqual(["backend", "capabilities", "id", "instance_id", "name", "principal_id", "state", "working_dir", "workspaces"]);
    expect(alpha).toMatchObject({ backend: "acp", capabilities: ["chat", "base"], name: "Alpha", principal_id: "anonymous", state: "idle", working_dir: "/w/a", workspaces: ["ws1"] });
    expect(listed.agents[1]).toMatchObject({ workspaces: [], capabilities: ["admin"] });
  });

  it("sends a message to another agent through the turn pipeline and answers its response; pages its ledger", async () => {
    const { openAgent, call, parsed } = await setup();
    const seen: Array<Parameters<Responder>[1]> = [];
    await openAgent("worker", ["chat"], (agent, msg) => {
      seen.push(msg);
      if (msg.content === "fail") {
        agent.respond(msg.request_id, { error: "exploded" });
        return;
      }
      agent.respond(msg.request_id, { text: "on " });
      agent.respond(msg.request_id, { text: "it" });
      agent.respond(msg.request_id, { usage: { input_tokens: 10, output_tokens: 5, thinking_tokens: 1, cache_read_tokens: 2, cache_write_tokens: 3 } });
      agent.respond(msg.request_id, { done: { full_response: "" } });
    });
    const boss = await openAgent("boss", ["admin"]);
    expect(await call(boss, "admin_send_message", { agent_id: "worker", content: "do it" })).toEqual({
      output: '{"agent_id":"worker","done":true,"response":"on it","status":"sent"}',
    });
    expect(seen[0]).toMatchObject({ sender: "admin:boss", content: "do it" });
    expect(await call(boss, "admin_send_message", { agent_id: "worker", content: "fail" })).toEqual({ error: "agent error: exploded" });
    expect(await call(boss, "admin_send_message", {})).toEqual({ error: "agent_id is required" });
    expect(await call(boss, "admin_send_message", { agent_id: "worker" })).toEqual({ error: "content is required" });
    expect(await call(boss, "admin_send_message", { agent_id: "boss", content: "x" })).toEqual({ error: "cannot send message to self" });
    expect(await call(boss, "admin_send_message", { agent_id: "ghost", content: "x" })).toEqual({ error: "sending message: agent not found" });

    const first = await parsed(boss, "admin_agent_messages", { agent_id: "worker", limit: 2 });
    expect(Object.keys(first)).toEqual(["agent_id", "count", "events", "has_more", "next_cursor", "usage"]);
    expect(first).toMatchObject({ agent_id: "worker", count: 2, has_more: true });
    const events = first.events as Array<Record<string, unknown>>;
    expect(events[0]).toMatchObject({ author: "admin:boss", direction: "inbound_to_agent", text: "do it", type: "message" });
    expect(Object.keys(events[0]!)).toEqual(["author", "direction", "id", "text", "thread_id", "timestamp", "type"]);
    expect(first.usage).toEqual({
      request_count: 1,
      total_cache_read: 2,
      total_cache_write: 3,
      total_input: 10,
      total_output: 5,
      total_thinking: 1,
      total_tokens: 16,
    });
    const all: Array<Record<string, unknown>> = [...events];
    let page = first;
    while (page.has_more === true) {
      page = await parsed(boss, "admin_agent_messages", { agent_id: "worker", limit: 2, cursor: page.next_cursor });
      all.push(...(page.events as Array<Record<string, unknown>>));
    }
    expect(page).not.toHaveProperty("next_cursor");
    expect(all.map((e) => e.text ?? null)).toEqual(["do it", "on it", "fail", "exploded"]);
    expect(await call(boss, "admin_agent_messages", { agent_id: "worker", cursor: "bogus" })).toEqual({ error: "querying events: invalid cursor" });
    expect(await call(boss, "admin_agent_messages", {})).toEqual({ error: "agent_id is required" });
    expect(await parsed(boss, "admin_agent_messages", { agent_id: "nobody" })).toMatchObject({ count: 0, events: [], has_more: false });
  });
});

describe("builtin:ui ask_user", () => {
  const ASK = { question: "Deploy?", options: [{ label: "yes", description: "ship it" }, { label: "no" }], header: "Release" };

  it("fails fast with no client watching, and checks its input in order", async () => {
    const { openAgent, call } = await setup();
    const agent = await openAgent("asker", ["ui"]);
    expect(await call(agent, "ask_user", ASK)).toEqual({ error: "failed to send question: no connected clients for agent asker" });
    expect(await call(agent, "ask_user", {})).toEqual({ error: "question is required" });
    expect(await call(agent, "ask_user", { question: "q" })).toEqual({ error: "at least one option is required" });
    expect(await call(agent, "ask_user", { question: "q", options: [{ label: "" }] })).toEqual({ error: "option label is required" });
    expect(await call(agent, "ask_user", { question: "q", options: [{ label: "a" }, { label: "a" }] })).toEqual({
      error: 'duplicate option label: "a"',
    });
    expect(await call(agent, "ask_user", { question: "q", options: "a" })).toEqual({ error: 'invalid input: field "options" must be of type array' });
  });

  it("is answered over gRPC AnswerQuestion by a StreamEvents subscriber; a mismatched agent_id keeps the question", async () => {
    const { gw, client, openAgent, call } = await setup();
    const agent = await openAgent("asker", ["ui"]);
    const reader = streamEvents(gw, client, "asker");
    await reader.headers;
    const pending = call(agent, "ask_user", { ...ASK, multi_select: true });
    const frame = await reader.next("user_question");
    const question = frame.user_question as { question_id: string; question: string; options: Array<{ label: string }> };
    expect(question).toMatchObject({ question: "Deploy?", agent_id: "asker", header: "Release", multi_select: true, timeout_seconds: 60 });
    const wrong = await callUnary(client, "AnswerQuestion", { agent_id: "other", question_id: question.question_id, selected: ["yes"] });
    expect(wrong.response).toMatchObject({ success: false });
    const unknown = await callUnary(client, "AnswerQuestion", { agent_id: "asker", question_id: question.question_id, selected: ["maybe"] });
    expect(unknown.response).toMatchObject({ success: false, error: 'unknown option label: "maybe"' });
    const right = await callUnary(client, "AnswerQuestion", {
      agent_id: "asker",
      question_id: question.question_id,
      selected: ["yes", "no"],
      custom_text: "carefully",
    });
    expect(right).toMatchObject({ ok: true, code: grpc.status.OK, response: { success: true } });
    expect(await pending).toEqual({ output: '{"answered":true,"custom_text":"carefully","selected":["yes","no"]}' });
  });

  it("is answered over HTTP by the client whose SSE send stream carries user_question; single-select refuses two", async () => {
    const { gw, openAgent, call } = await setup();
    let asked: Promise<unknown> = Promise.resolve();
    const agent = await openAgent("asker", ["chat", "ui"], (a, msg) => {
      asked = call(a, "ask_user", ASK).then((result) => {
        a.respond(msg.request_id, { text: JSON.stringify(result) });
        a.respond(msg.request_id, { done: { full_response: "" } });
        return result;
      });
    });
    void agent;
    const answered = (async () => {
      for (;;) {
        const res = await fetch(`${gw.httpUrl}/api/questions/pending?agent_id=asker`);
        const body = (await res.json()) as { questions?: Array<{ question_id: string }> } | Array<{ question_id: string }>;
        const list = Array.isArray(body) ? body : (body.questions ?? []);
        if (list.length > 0) {
          const id = list[0]!.question_id;
          const two = await fetch(`${gw.httpUrl}/api/questions/answer`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ agent_id: "asker", question_id: id, selected: ["yes", "no"] }),
          });
          expect([two.status, await two.json()]).toEqual([400, { error: "multiple selections not allowed for this question" }]);
          const one = await fetch(`${gw.httpUrl}/api/questions/answer`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ agent_id: "asker", question_id: id, selected: ["no"] }),
          });
          expect([one.status, await one.json()]).toEqual([200, { success: true }]);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const sse = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "asker", sender: "alice", content: "go" });
    await answered;
    const question = sse.frames.find((f) => f.event === "user_question");
    expect(question?.json).toMatchObject({ agent_id: "asker", question: "Deploy?", header: "Release", multi_select: false });
    expect(await asked).toEqual({ output: '{"answered":true,"selected":["no"]}' });
  });

  it("answers {answered:false, reason:timeout} at its deadline", async () => {
    const { gw, client, openAgent, call } = await setup();
    const agent = await openAgent("asker", ["ui"]);
    const reader = streamEvents(gw, client, "asker");
    await reader.headers;
    expect(await call(agent, "ask_user", { ...ASK, timeout_seconds: 1 })).toEqual({ output: '{"answered":false,"reason":"timeout"}' });
  });

  it("is refused without capability ui", async () => {
    const { openAgent, call } = await setup();
    const agent = await openAgent("plain", ["chat"]);
    expect(await call(agent, "ask_user", ASK)).toEqual({ error: "insufficient capabilities for this tool" });
  });
});
