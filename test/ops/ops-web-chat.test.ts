// ABOUTME: Operations on the web chat and the remaining guard sources (ops.md §3.3–§3.4, §5): maintenance on send, a turn
// ABOUTME: in flight finishing, a held call answered from the chat, tool_use and warn records, an aborted MCP hold.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import type { GuardRuleConfig } from "../../src/config/types.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { connectAgent, createCleanups, eventNames, httpJson, SseSession } from "../e2e/support/conversation-e2e.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../support/proto-client.js";
import { signedIn, SseReader, startWebGateway } from "../webadmin/support.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

const rule = (patch: Partial<GuardRuleConfig> & Pick<GuardRuleConfig, "name" | "match" | "action">): GuardRuleConfig => ({
  tools: ["*"],
  flags: "",
  message: `blocked by rule ${patch.name}`,
  ...patch,
});

async function gateway(rules: GuardRuleConfig[] = []): Promise<TestGateway> {
  const gw = await startWebGateway({ authOff: true, mutate: (c) => ({ ...c, guard: { ...c.guard, enabled: true, rules } }) });
  cleanups.add(() => gw.stop());
  return gw;
}

const guardRecords = async (gw: TestGateway) =>
  (await createAuditRepository(gw.gateway.store.db).list({ action: "guard_match", limit: 20 })).map((a) => JSON.parse(a.detailJson ?? "{}") as Record<string, unknown>);

async function baseAgent(gw: TestGateway, agentId: string): Promise<ThirdPartyAgentStream> {
  const client = covenControlClient(gw.grpcAddr);
  cleanups.add(() => client.close());
  const stream = new ThirdPartyAgentStream(client);
  cleanups.add(() => stream.cancel());
  stream.call.on("error", () => {});
  stream.register(agentId, { capabilities: ["base"] });
  await stream.next("welcome");
  return stream;
}

const resultOf = (stream: ThirdPartyAgentStream, requestId: string) =>
  stream
    .next("pack_tool_result", (f: ServerFrame) => (f.pack_tool_result as { request_id: string }).request_id === requestId)
    .then((f) => f.pack_tool_result as { output_json?: string; error?: string });

describe("maintenance on the web chat and for turns in flight", () => {
  it("web chat send answers 503 `maintenance: <message>` after `Message required`, before `Agent not connected`", async () => {
    const gw = await gateway();
    const b = await signedIn(gw);
    await connectAgent(cleanups, gw.grpcAddr, "echo");
    await gw.gateway.domain.ops.maintenance.set({ enabled: true, message: "swapping disks", actor: "system" });
    const empty = await b.form("/chat/echo/send", { message: "  " });
    expect([empty.statusCode, empty.body]).toEqual([400, "Message required"]);
    const refused = await b.form("/chat/echo/send", { message: "hi" });
    expect([refused.statusCode, refused.body]).toEqual([503, "maintenance: swapping disks"]);
    const offline = await b.form("/chat/nobody/send", { message: "hi" });
    expect([offline.statusCode, offline.body]).toEqual([503, "maintenance: swapping disks"]);
  });

  it("a turn accepted before maintenance was switched on runs to its done", async () => {
    const gw = await gateway();
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "busy");
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "busy", sender: "alice", content: "long job" });
    await sse.next("started");
    const turn = (await agent.message(1)).request_id as string;
    await gw.gateway.domain.ops.maintenance.set({ enabled: true, actor: "system" });
    agent.respond(turn, { text: "still " });
    agent.respond(turn, { text: "working" });
    agent.respond(turn, { done: { full_response: "still working" } });
    const res = await sse.ended();
    expect(eventNames(res)).toEqual(["started", "text", "text", "done"]);
  });
});

describe("the remaining guard rows", () => {
  it("a held ExecutePackTool call is shown in the agent's web chat stream and answered from it", async () => {
    const gw = await gateway([rule({ name: "hold-logs", tools: ["log_*"], match: "dangerous", action: "require_approval" })]);
    const b = await signedIn(gw);
    const stream = await baseAgent(gw, "toolsmith");
    const chat = new SseReader(gw.httpPort, "/chat/toolsmith/stream", b.cookieHeader);
    cleanups.add(() => chat.close());
    await chat.next("history_end");
    stream.send({ execute_pack_tool: { request_id: "held-w", tool_name: "log_entry", input_json: '{"message":"dangerous"}' } });
    const shown = await chat.next("tool_approval");
    expect(shown.data).toMatchObject({ type: "tool_approval", tool_id: "held-w", request_id: "held-w", tool_name: "log_entry" });
    const ok = await b.json("POST", "/chat/toolsmith/approve", { tool_id: "held-w", decision: "approve" });
    expect([ok.statusCode, ok.body]).toEqual([200, '{"approved":true,"success":true}\n']);
    expect(JSON.parse((await resultOf(stream, "held-w")).output_json!)).toMatchObject({ status: "logged" });
    const resolved = await chat.next("approval_resolved");
    expect(resolved.data).toMatchObject({ tool_id: "held-w", status: "approved", resolved_by: expect.stringMatching(/^webadmin:/) });
  });

  it("tool_use is only recorded (any verdict becomes warn); warn on ExecutePackTool and MCP runs the call and records it", async () => {
    const gw = await gateway([
      rule({ name: "note-logs", tools: ["log_entry"], match: "noted", action: "warn" }),
      rule({ name: "hold-read", tools: ["Read"], match: "secrets", action: "require_approval" }),
    ]);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "runner");
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "runner", sender: "alice", content: "go" });
    await sse.next("started");
    const turn = (await agent.message(1)).request_id as string;
    agent.respond(turn, { tool_use: { id: "u1", name: "Bash", input_json: '{"command":"rm -rf /"}' } });
    agent.respond(turn, { tool_use: { id: "u2", name: "Read", input_json: '{"path":"secrets"}' } });
    agent.respond(turn, { tool_use: { id: "u3", name: "Read", input_json: '{"path":"readme"}' } });
    agent.respond(turn, { done: { full_response: "ok" } });
    expect(eventNames(await sse.ended())).toEqual(["started", "tool_use", "tool_use", "tool_use", "done"]);

    const stream = await baseAgent(gw, "toolsmith");
    stream.send({ execute_pack_tool: { request_id: "w-1", tool_name: "log_entry", input_json: '{"message":"noted"}' } });
    expect(JSON.parse((await resultOf(stream, "w-1")).output_json!)).toMatchObject({ status: "logged" });
    const mcp = new Client({ name: "warn-test", version: "0.0.1" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`)));
    cleanups.add(() => mcp.close());
    const ran = (await mcp.callTool({ name: "log_entry", arguments: { message: "noted" } })) as { isError?: boolean };
    expect(ran.isError).toBeFalsy();

    await expect.poll(async () => (await guardRecords(gw)).length).toBe(4);
    expect(await guardRecords(gw)).toEqual(
      expect.arrayContaining([
        { rule: "rm-root", action: "warn", source: "tool_use", tool_name: "Bash" },
        { rule: "hold-read", action: "warn", source: "tool_use", tool_name: "Read" },
        { rule: "note-logs", action: "warn", source: "pack_tool", tool_name: "log_entry" },
        { rule: "note-logs", action: "warn", source: "mcp", tool_name: "log_entry" },
      ]),
    );
    expect((await httpJson(`${gw.httpUrl}/api/tools/pending`)).json).toEqual({ approvals: [] });
  });

  it("an MCP call aborted while held has its row canceled and a late answer gets `tool approval already resolved`", async () => {
    const gw = await gateway([rule({ name: "hold-logs", tools: ["log_*"], match: "dangerous", action: "require_approval" })]);
    const mcp = new Client({ name: "abort-test", version: "0.0.1" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`)));
    cleanups.add(() => mcp.close());
    const abort = new AbortController();
    const call = mcp.callTool({ name: "log_entry", arguments: { message: "dangerous" } }, undefined, { signal: abort.signal });
    call.catch(() => {});
    await expect.poll(async () => ((await httpJson(`${gw.httpUrl}/api/tools/pending`)).json as { approvals: unknown[] }).approvals.length).toBe(1);
    const row = await gw.gateway.store.db.selectFrom("tool_approvals").selectAll().executeTakeFirstOrThrow();
    abort.abort();
    await expect(call).rejects.toThrow();
    await expect
      .poll(async () => (await gw.gateway.store.db.selectFrom("tool_approvals").select("status").where("id", "=", row.id).executeTakeFirstOrThrow()).status)
      .toBe("canceled");
    const late = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: row.agent_id, tool_id: row.tool_id, approved: true });
    expect(late).toEqual({ status: 409, json: { error: "tool approval already resolved" } });
  });
});
