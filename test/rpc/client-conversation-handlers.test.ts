// ABOUTME: ClientService unary conversation RPCs over loopback gRPC with an independent proto-loader client:
// ABOUTME: SendMessage (validation, idempotency, dispatch), GetEvents paging, ListAgents, ApproveTool, AnswerQuestion.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { createThreadRepository } from "../../src/store/thread-repository.js";
import { bearerMetadata } from "../support/proto-client.js";
import { conversationClient, EventStreamReader, RFC3339_MS, ScriptedAgent, unary as callUnary, type EventFrame } from "./support/conversation-clients.js";
import { startConversationRpc, type ConversationRpcHarness, type ConversationRpcOptions } from "./support/conversation-rpc-harness.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function harness(options: ConversationRpcOptions = {}): Promise<ConversationRpcHarness> {
  const h = await startConversationRpc(options);
  cleanups.push(() => h.stop());
  return h;
}

function client(h: ConversationRpcHarness): ReturnType<typeof conversationClient> {
  const c = conversationClient(h.addr);
  cleanups.push(() => c.close());
  return c;
}

async function agent(h: ConversationRpcHarness, agentId: string, options: Parameters<typeof ScriptedAgent.connect>[2] = {}): Promise<ScriptedAgent> {
  const a = await ScriptedAgent.connect(h.addr, agentId, options);
  cleanups.push(() => a.close());
  return a;
}

const failure = (code: grpc.status, details: string) => ({ ok: false, code, details });

describe("ClientService.SendMessage", () => {
  it("checks its input in spec order", async () => {
    const h = await harness();
    const c = client(h);
    const send = (req: object) => callUnary(c, "SendMessage", req);
    const full = { idempotency_key: "k", conversation_key: "a", content: "hi" };
    expect(await send({})).toEqual(failure(grpc.status.INVALID_ARGUMENT, "idempotency_key required"));
    expect(await send({ idempotency_key: "x".repeat(101) })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "idempotency_key too long"));
    expect(await send({ ...full, conversation_key: "" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "conversation_key required"));
    expect(await send({ ...full, content: "" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "content required"));
    // 100 characters is still fine: it fails later, on the missing agent.
    expect(await send({ ...full, idempotency_key: "é".repeat(100) })).toEqual(failure(grpc.status.NOT_FOUND, "agent not found"));
  });

  it("writes the thread (client, conversation_key) and the inbound message, then dispatches with sender client", async () => {
    const h = await harness();
    const a = await agent(h, "writer");
    const attachment = { filename: "a.txt", mime_type: "text/plain", data: Buffer.from("bytes") };
    const result = await callUnary<{ status: string; message_id: string }>(client(h), "SendMessage", {
      idempotency_key: "k1",
      conversation_key: "writer",
      content: "hello",
      attachments: [attachment],
    });
    expect(result.ok && result.response.status).toBe("accepted");
    const dispatched = await a.message(1);
    const thread = await createThreadRepository(h.store.db).findByPair("client", "writer");
    expect(thread).toBeDefined();
    expect(dispatched).toMatchObject({ thread_id: thread!.id, sender: "client", content: "hello" });
    expect(dispatched.attachments).toEqual([{ filename: "a.txt", mime_type: "text/plain", data: Buffer.from("bytes") }]);
    const [stored] = await h.ledger.findByRequestId(dispatched.request_id as string);
    expect(stored).toMatchObject({
      eventId: result.response!.message_id,
      conversationKey: "writer",
      threadId: thread!.id,
      direction: "inbound_to_agent",
      author: "client",
      type: "message",
      text: "hello",
      actorPrincipalId: "anonymous",
    });
  });

  it("answers N concurrent duplicates with one accepted turn and the ORIGINAL message_id for every other call", async () => {
    const h = await harness();
    const a = await agent(h, "dup");
    const c = client(h);
    const request = { idempotency_key: "same-key", conversation_key: "dup", content: "once" };
    const results = await Promise.all(Array.from({ length: 8 }, () => callUnary<{ status: string; message_id: string }>(c, "SendMessage", request)));
    const statuses = results.map((r) => (r.ok ? r.response.status : `error:${r.details}`));
    expect(statuses.filter((s) => s === "accepted")).toHaveLength(1);
    expect(statuses.filter((s) => s === "duplicate")).toHaveLength(7);
    const ids = new Set(results.map((r) => r.response?.message_id));
    expect(ids.size).toBe(1);
    const [messageId] = [...ids];
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    await a.message(1);
    // A later retry is still a duplicate; nothing else reached the agent or the ledger.
    const retry = await callUnary<{ status: string; message_id: string }>(c, "SendMessage", request);
    expect(retry.response).toEqual({ status: "duplicate", message_id: messageId });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.messages).toHaveLength(1);
    const page = await h.ledger.listConversation({ conversationKey: "dup" });
    expect(page.events.filter((e) => e.type === "message" && e.direction === "inbound_to_agent").map((e) => e.eventId)).toEqual([messageId]);
  });

  it("rejects the same key with different content, conversation or attachments with ALREADY_EXISTS", async () => {
    const h = await harness();
    await agent(h, "one");
    await agent(h, "two");
    const c = client(h);
    const base = { idempotency_key: "k", conversation_key: "one", content: "first" };
    expect((await callUnary(c, "SendMessage", base)).ok).toBe(true);
    const reused = failure(grpc.status.ALREADY_EXISTS, "idempotency_key reused with different content");
    expect(await callUnary(c, "SendMessage", { ...base, content: "second" })).toEqual(reused);
    expect(await callUnary(c, "SendMessage", { ...base, conversation_key: "two" })).toEqual(reused);
    const withFile = { ...base, attachments: [{ filename: "f", mime_type: "text/plain", data: Buffer.from("x") }] };
    expect(await callUnary(c, "SendMessage", withFile)).toEqual(reused);
  });

  it("scopes keys per principal: another caller may reuse a key", async () => {
    const h = await harness({ isAuthEnabled: true });
    const agentPrincipal = await h.seedPrincipal({ type: "agent" });
    await agent(h, "scoped", { metadata: bearerMetadata(await h.tokenFor(agentPrincipal)) });
    const alice = await h.seedPrincipal();
    const bob = await h.seedPrincipal();
    const c = client(h);
    const request = { idempotency_key: "shared", conversation_key: "scoped", content: "hi" };
    const first = await callUnary<{ status: string; message_id: string }>(c, "SendMessage", request, bearerMetadata(await h.tokenFor(alice)));
    const second = await callUnary<{ status: string; message_id: string }>(c, "SendMessage", { ...request, content: "other" }, bearerMetadata(await h.tokenFor(bob)));
    expect(first.response?.status).toBe("accepted");
    expect(second.response?.status).toBe("accepted");
    expect(second.response?.message_id).not.toBe(first.response?.message_id);
    const stored = await h.ledger.findByEventId(second.response!.message_id);
    expect(stored?.actorPrincipalId).toBe(bob);
  });

  it("fails NOT_FOUND 'agent not found' for an unconnected agent, records the error row and releases the key", async () => {
    const h = await harness();
    const c = client(h);
    const request = { idempotency_key: "retry-me", conversation_key: "late", content: "hi" };
    expect(await callUnary(c, "SendMessage", request)).toEqual(failure(grpc.status.NOT_FOUND, "agent not found"));
    const page = await h.ledger.listConversation({ conversationKey: "late" });
    expect(page.events.map((e) => [e.type, e.author, e.text])).toEqual([
      ["message", "client", "hi"],
      ["error", "system", "agent not found"],
    ]);
    await agent(h, "late");
    const retry = await callUnary<{ status: string }>(c, "SendMessage", request);
    expect(retry.response?.status).toBe("accepted");
  });
});

describe("ClientService.GetEvents", () => {
  async function seeded(count: number): Promise<ConversationRpcHarness> {
    const h = await harness();
    const thread = await createThreadRepository(h.store.db).insert({ id: crypto.randomUUID(), frontendName: "client", externalId: "paged", agentId: "paged", now: new Date().toISOString() });
    for (let i = 1; i <= count; i += 1) {
      await h.ledger.append({ conversationKey: "paged", threadId: thread!.id, direction: "inbound_to_agent", author: "client", type: "message", text: `m${i}` });
    }
    return h;
  }

  it("pages oldest first with an opaque cursor until has_more is false", async () => {
    const h = await seeded(5);
    const c = client(h);
    const texts: string[] = [];
    let cursor: string | undefined;
    const pages: Array<{ has_more: boolean; next_cursor?: string }> = [];
    do {
      const result = await callUnary<{ events: EventFrame[]; has_more: boolean; next_cursor?: string }>(c, "GetEvents", {
        conversation_key: "paged",
        limit: 2,
        ...(cursor === undefined ? {} : { cursor }),
      });
      expect(result.ok).toBe(true);
      const page = result.response!;
      pages.push({ has_more: page.has_more, ...(page.next_cursor === undefined ? {} : { next_cursor: page.next_cursor }) });
      texts.push(...page.events.map((e) => e.text ?? ""));
      cursor = page.has_more ? page.next_cursor : undefined;
      for (const e of page.events) {
        expect(e.timestamp).toMatch(RFC3339_MS);
        expect(e).toMatchObject({ conversation_key: "paged", direction: "inbound_to_agent", author: "client", type: "message" });
        expect(e.actor_principal_id).toBeUndefined();
      }
    } while (cursor !== undefined);
    expect(texts).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    expect(pages.map((p) => p.has_more)).toEqual([true, true, false]);
    expect(pages[2]!.next_cursor).toBeUndefined();
    expect(Buffer.from(pages[0]!.next_cursor!, "base64").toString()).toMatch(/^seq:\d+$/);
  });

  it("checks conversation_key, since, until and cursor in that order", async () => {
    const h = await seeded(1);
    const c = client(h);
    const get = (req: object) => callUnary(c, "GetEvents", req);
    expect(await get({ since: "nope", cursor: "!!" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "conversation_key required"));
    expect(await get({ conversation_key: "paged", since: "nope", until: "nope", cursor: "!!" })).toEqual(
      failure(grpc.status.INVALID_ARGUMENT, "invalid since timestamp"),
    );
    expect(await get({ conversation_key: "paged", until: "nope", cursor: "!!" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "invalid until timestamp"));
    expect(await get({ conversation_key: "paged", cursor: "!!" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "invalid cursor"));
    expect(await get({ conversation_key: "paged", cursor: Buffer.from("seq:abc").toString("base64") })).toEqual(
      failure(grpc.status.INVALID_ARGUMENT, "invalid cursor"),
    );
  });

  it("applies inclusive since/until bounds", async () => {
    const h = await seeded(3);
    const all = (await h.ledger.listConversation({ conversationKey: "paged" })).events;
    const result = await callUnary<{ events: EventFrame[] }>(client(h), "GetEvents", {
      conversation_key: "paged",
      since: all[1]!.timestamp,
      until: all[1]!.timestamp,
    });
    expect(result.response!.events.every((e) => e.timestamp === all[1]!.timestamp)).toBe(true);
    expect(result.response!.events.map((e) => e.id)).toContain(all[1]!.eventId);
  });
});

describe("ClientService.ListAgents", () => {
  it("lists connected agents by name with full metadata, filtered by an exact workspace tag", async () => {
    const h = await harness();
    await agent(h, "agent-b", { name: "beta", workspaces: ["team", "ops"] });
    await agent(h, "agent-a", { name: "alpha", workspaces: ["team"] });
    const c = client(h);
    const all = await callUnary<{ agents: Array<Record<string, unknown>> }>(c, "ListAgents", {});
    expect(all.response!.agents.map((a) => a.id)).toEqual(["agent-a", "agent-b"]);
    expect(all.response!.agents[1]).toEqual({
      id: "agent-b",
      name: "beta",
      backend: "direct",
      working_dir: "/work/agent-b",
      connected: true,
      metadata: {
        working_directory: "/work/agent-b",
        git: { branch: "main", commit: "abc123", dirty: true, remote: "origin", ahead: 2, behind: 1 },
        hostname: "agent-host",
        os: "linux",
        workspaces: ["team", "ops"],
        backend: "direct",
      },
    });
    const ops = await callUnary<{ agents: Array<Record<string, unknown>> }>(c, "ListAgents", { workspace: "ops" });
    expect(ops.response!.agents.map((a) => a.id)).toEqual(["agent-b"]);
    const partial = await callUnary<{ agents: Array<Record<string, unknown>> }>(c, "ListAgents", { workspace: "op" });
    expect(partial.response!.agents).toEqual([]);
  });
});

describe("ClientService.ApproveTool", () => {
  it("validates, answers the pending approval once with an audit row, and reports refusals in the body", async () => {
    const h = await harness();
    const a = await agent(h, "tools");
    const c = client(h);
    expect(await callUnary(c, "ApproveTool", { tool_id: "t" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "agent_id required"));
    expect(await callUnary(c, "ApproveTool", { agent_id: "tools" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "tool_id required"));
    expect((await callUnary(c, "ApproveTool", { agent_id: "ghost", tool_id: "t" })).response).toEqual({ success: false, error: "agent not found" });
    expect((await callUnary(c, "ApproveTool", { agent_id: "tools", tool_id: "t" })).response).toEqual({
      success: false,
      error: "tool approval not found",
    });

    await callUnary(c, "SendMessage", { idempotency_key: "k", conversation_key: "tools", content: "run it" });
    const message = await a.message(1);
    a.respond(message.request_id as string, { tool_approval_request: { id: "t", name: "bash", input_json: "{}" } });
    await waitFor(async () => (await h.approvals.listPending("tools")).length === 1);

    expect((await callUnary(c, "ApproveTool", { agent_id: "tools", tool_id: "t", approved: true, approve_all: true })).response).toEqual({ success: true });
    const frame = await a.stream.next("tool_approval");
    expect(frame.tool_approval).toEqual({ id: "t", approved: true, approve_all: true });
    expect((await callUnary(c, "ApproveTool", { agent_id: "tools", tool_id: "t", approved: true })).response).toEqual({
      success: false,
      error: "tool approval already resolved",
    });
    const audit = await createAuditRepository(h.store.db).list({ action: "approve_tool", limit: 10 });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toBe("anonymous");
    expect(JSON.parse(audit[0]!.detailJson!)).toEqual({
      agent_id: "tools",
      tool_id: "t",
      request_id: message.request_id,
      approved: true,
      approve_all: true,
    });
  });
});

describe("ClientService.AnswerQuestion", () => {
  it("validates, keeps the question pending on refusals, then answers it for the waiting ask_user", async () => {
    const h = await harness();
    const c = client(h);
    expect(await callUnary(c, "AnswerQuestion", { question_id: "q" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "agent_id required"));
    expect(await callUnary(c, "AnswerQuestion", { agent_id: "asker" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "question_id required"));
    expect((await callUnary(c, "AnswerQuestion", { agent_id: "asker", question_id: "nope", selected: ["x"] })).response).toEqual({
      success: false,
      error: "no pending question with ID nope",
    });

    // A StreamEvents subscriber is the recipient that lets ask_user raise the question.
    const reader = new EventStreamReader(c, { conversation_key: "asker" });
    cleanups.push(() => void reader.cancel());
    await reader.headers;
    const asked = h.questions.ask({
      agentId: "asker",
      question: "Pick one",
      options: [{ label: "A" }, { label: "B", description: "the second" }],
      multiSelect: false,
      header: "Choice",
      timeoutSeconds: 30,
    });
    const frame = await reader.next("user_question");
    const question = frame.user_question as Record<string, unknown>;
    expect(question).toMatchObject({
      agent_id: "asker",
      question: "Pick one",
      options: [{ label: "A" }, { label: "B", description: "the second" }],
      multi_select: false,
      header: "Choice",
      timeout_seconds: 30,
    });
    const questionId = question.question_id as string;
    const answer = (body: object) => callUnary(c, "AnswerQuestion", { agent_id: "asker", question_id: questionId, ...body });
    expect((await callUnary(c, "AnswerQuestion", { agent_id: "other", question_id: questionId, selected: ["A"] })).response).toEqual({
      success: false,
      error: `answer agent_id "other" does not match question agent_id "asker"`,
    });
    expect((await answer({})).response).toEqual({ success: false, error: "at least one selection or custom_text is required" });
    expect((await answer({ selected: ["C"] })).response).toEqual({ success: false, error: `unknown option label: "C"` });
    expect((await answer({ selected: ["A", "B"] })).response).toEqual({ success: false, error: "multiple selections not allowed for this question" });
    expect((await answer({ selected: ["B"], custom_text: "because" })).response).toEqual({ success: true });
    expect(await asked).toEqual({ answered: true, selected: ["B"], customText: "because" });
    expect((await answer({ selected: ["A"] })).response).toEqual({ success: false, error: `no pending question with ID ${questionId}` });
    const audit = await createAuditRepository(h.store.db).list({ action: "answer_question", limit: 10 });
    expect(audit.map((e) => [e.actor, JSON.parse(e.detailJson!)])).toEqual([["anonymous", { agent_id: "asker", question_id: questionId }]]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
