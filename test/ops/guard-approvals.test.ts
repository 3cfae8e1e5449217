// ABOUTME: The guard's approval rows of ops.md §3.3–§3.4 through a real gateway: an agent's approval request denied at
// ABOUTME: once, and gateway-held ExecutePackTool / MCP calls answered over HTTP, gRPC and WS, denied, expired, abandoned.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import type { GuardConfig, GuardRuleConfig } from "../../src/config/types.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { unary } from "../rpc/support/conversation-clients.js";
import {
  connectAgent,
  createCleanups,
  eventNames,
  httpJson,
  openClient,
  SseSession,
  subscribe,
} from "../e2e/support/conversation-e2e.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { parseExposition, valueOf } from "../support/prom-text.js";
import { covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../support/proto-client.js";
import { WsClient, WsSchema } from "../ws/support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

const HOLD_RULE: GuardRuleConfig = {
  name: "hold-logs",
  tools: ["log_*"],
  match: "dangerous",
  flags: "",
  action: "require_approval",
  message: "blocked by rule hold-logs",
};

async function gateway(guard: Partial<GuardConfig> = {}, approvalTimeoutMs?: number): Promise<TestGateway> {
  const gw = await startTestGateway({
    mutate: (c) => ({
      ...c,
      guard: { ...c.guard, enabled: true, rules: [HOLD_RULE], ...guard },
      ...(approvalTimeoutMs === undefined ? {} : { limits: { ...c.limits, toolApprovalTimeoutMs: approvalTimeoutMs } }),
    }),
  });
  cleanups.add(() => gw.stop());
  return gw;
}

const scrape = async (gw: TestGateway) => parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
const guardRecords = async (gw: TestGateway) =>
  (await createAuditRepository(gw.gateway.store.db).list({ action: "guard_match", limit: 20 })).map((a) => JSON.parse(a.detailJson ?? "{}") as Record<string, unknown>);
const approvalRow = (gw: TestGateway, toolId: string) =>
  gw.gateway.store.db.selectFrom("tool_approvals").selectAll().where("tool_id", "=", toolId).executeTakeFirstOrThrow();

/** An agent with the `base` capability (the builtin log pack), its stream closed by the cleanups. */
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

const resultOf = (stream: ThirdPartyAgentStream, requestId: string, timeoutMs?: number) =>
  stream
    .next("pack_tool_result", (f: ServerFrame) => (f.pack_tool_result as { request_id: string }).request_id === requestId, timeoutMs)
    .then((f) => f.pack_tool_result as { request_id: string; output_json?: string; error?: string });

async function pendingOf(gw: TestGateway): Promise<Array<Record<string, unknown>>> {
  return ((await httpJson(`${gw.httpUrl}/api/tools/pending`)).json as { approvals: Array<Record<string, unknown>> }).approvals;
}

async function waitPending(gw: TestGateway, toolId: string): Promise<void> {
  await expect.poll(async () => (await pendingOf(gw)).map((a) => a.tool_id)).toContain(toolId);
}

describe("deny on an agent's approval request (source approval_request)", () => {
  it("answers the agent no at once, stores the row denied by guard:<rule>, shows no tool_approval, counts guard_denied", async () => {
    const gw = await gateway();
    const ws = await WsClient.open(gw.httpUrl, await WsSchema.fetch(gw.httpUrl));
    cleanups.add(() => ws.close());
    await ws.hello();
    await ws.call("subscribe", { topic: "approvals" });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "careless");
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "careless", sender: "alice", content: "wipe it" });
    await sse.next("started");
    const turn = (await agent.message(1)).request_id as string;
    const input = JSON.stringify({ command: "rm -rf /" });
    agent.respond(turn, { tool_approval_request: { id: "wipe-1", name: "Bash", input_json: input } });
    expect((await agent.stream.next("tool_approval")).tool_approval).toEqual({ id: "wipe-1", approved: false, approve_all: false });

    const resolved = await ws.waitFor((f) => f.event === "approval" && f.payload.kind === "resolved");
    expect(resolved.payload).toMatchObject({ agent_id: "careless", tool_id: "wipe-1", status: "denied", resolved_by: "guard:rm-root" });
    expect(ws.frames.filter((f) => f.event === "approval" && f.payload.kind === "raised")).toEqual([]);
    const row = await approvalRow(gw, "wipe-1");
    expect([row.status, row.resolved_by, row.resolved_at]).toEqual(["denied", "guard:rm-root", row.created_at]);
    expect(await pendingOf(gw)).toEqual([]);

    agent.respond(turn, { done: { full_response: "refused" } });
    const res = await sse.ended();
    expect(eventNames(res)).toEqual(["started", "done"]);
    expect(await guardRecords(gw)).toEqual([{ rule: "rm-root", action: "deny", source: "approval_request", tool_name: "Bash" }]);
    const metrics = await scrape(gw);
    expect(valueOf(metrics, "coven_approvals_total", { outcome: "guard_denied" })).toBe(1);
    expect(valueOf(metrics, "coven_approvals_pending")).toBe(0);
    expect(valueOf(metrics, "coven_guard_matches_total", { action: "deny", source: "approval_request" })).toBe(1);
  });

  it("require_approval and warn leave a normal pending approval plus the record; the guard off records nothing", async () => {
    const gw = await gateway({
      rules: [
        { ...HOLD_RULE, name: "ask-deploy", tools: ["*"], match: "deploy" },
        { ...HOLD_RULE, name: "note-ls", tools: ["*"], match: "ls", action: "warn" },
      ],
    });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "worker");
    const sse = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "worker", sender: "alice", content: "go" });
    await sse.next("started");
    const turn = (await agent.message(1)).request_id as string;
    agent.respond(turn, { tool_approval_request: { id: "a-1", name: "bash", input_json: '{"cmd":"deploy"}' } });
    agent.respond(turn, { tool_approval_request: { id: "a-2", name: "bash", input_json: '{"cmd":"ls"}' } });
    await expect.poll(async () => (await pendingOf(gw)).length).toBe(2);
    expect((await pendingOf(gw)).map((a) => a.tool_id)).toEqual(["a-1", "a-2"]);
    expect(await guardRecords(gw)).toEqual(
      expect.arrayContaining([
        { rule: "ask-deploy", action: "require_approval", source: "approval_request", tool_name: "bash" },
        { rule: "note-ls", action: "warn", source: "approval_request", tool_name: "bash" },
      ]),
    );
    agent.respond(turn, { done: { full_response: "ok" } });
    await sse.ended();

    const off = await gateway({ enabled: false });
    const { agent: quiet } = await connectAgent(cleanups, off.grpcAddr, "quiet");
    const offSse = new SseSession(cleanups, `${off.httpUrl}/api/send`, { agent_id: "quiet", sender: "alice", content: "go" });
    await offSse.next("started");
    const offTurn = (await quiet.message(1)).request_id as string;
    quiet.respond(offTurn, { tool_approval_request: { id: "b-1", name: "Bash", input_json: '{"command":"rm -rf /"}' } });
    await offSse.next("tool_approval");
    expect((await pendingOf(off)).map((a) => a.tool_id)).toEqual(["b-1"]);
    expect(await guardRecords(off)).toEqual([]);
    quiet.respond(offTurn, { done: { full_response: "ok" } });
    await offSse.ended();
  });
});

describe("gateway-held ExecutePackTool (source pack_tool)", () => {
  it("holds the call on a pending row announced to StreamEvents, runs it once approved over HTTP; a late answer is refused", async () => {
    const gw = await gateway();
    const client = openClient(cleanups, gw.grpcAddr);
    const events = await subscribe(cleanups, client, { conversation_key: "toolsmith" });
    const stream = await baseAgent(gw, "toolsmith");
    stream.send({ execute_pack_tool: { request_id: "held-1", tool_name: "log_entry", input_json: '{"message":"dangerous"}' } });
    const announced = await events.next("tool_approval");
    expect(announced.tool_approval).toEqual({ agent_id: "toolsmith", request_id: "held-1", tool_id: "held-1", tool_name: "log_entry", input_json: '{"message":"dangerous"}' });
    const pending = await pendingOf(gw);
    expect(pending).toEqual([
      expect.objectContaining({ agent_id: "toolsmith", request_id: "held-1", tool_id: "held-1", tool_name: "log_entry", thread_id: "" }),
    ]);
    expect(Date.parse(pending[0]!.expires_at as string) - Date.parse(pending[0]!.created_at as string)).toBe(300_000);

    const answer = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: "toolsmith", tool_id: "held-1", approved: true, approve_all: true });
    expect(answer).toEqual({ status: 200, json: { approved: true, success: true } });
    const result = await resultOf(stream, "held-1");
    expect(JSON.parse(result.output_json!)).toMatchObject({ status: "logged" });
    // No ToolApprovalResponse goes to any agent for a held call, and approve_all is ignored.
    expect(stream.received.filter((f) => f.payload === "tool_approval")).toEqual([]);
    expect((await approvalRow(gw, "held-1")).approve_all).toBe(0);
    const audit = await createAuditRepository(gw.gateway.store.db).list({ action: "approve_tool", limit: 5 });
    expect(audit.map((a) => JSON.parse(a.detailJson ?? "{}") as Record<string, unknown>)).toEqual([
      { agent_id: "toolsmith", tool_id: "held-1", request_id: "held-1", approved: true, approve_all: false },
    ]);
    const late = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: "toolsmith", tool_id: "held-1", approved: false });
    expect(late).toEqual({ status: 409, json: { error: "tool approval already resolved" } });
    expect(await guardRecords(gw)).toEqual([{ rule: "hold-logs", action: "require_approval", source: "pack_tool", tool_name: "log_entry" }]);
  });

  it("denied over gRPC ApproveTool fails `denied by approval` and the tool never runs", async () => {
    const gw = await gateway();
    const client = openClient(cleanups, gw.grpcAddr);
    const stream = await baseAgent(gw, "toolsmith");
    stream.send({ execute_pack_tool: { request_id: "held-2", tool_name: "log_entry", input_json: '{"message":"dangerous"}' } });
    await waitPending(gw, "held-2");
    const answered = await unary(client, "ApproveTool", { agent_id: "toolsmith", tool_id: "held-2", approved: false, approve_all: false });
    expect(answered.ok).toBe(true);
    expect((await resultOf(stream, "held-2")).error).toBe("denied by approval");
    stream.send({ execute_pack_tool: { request_id: "look", tool_name: "log_search", input_json: "" } });
    expect(JSON.parse((await resultOf(stream, "look")).output_json!)).toMatchObject({ count: 0 });
    const metrics = await scrape(gw);
    expect(valueOf(metrics, "coven_approvals_total", { outcome: "denied" })).toBe(1);
    expect(valueOf(metrics, "coven_approvals_pending")).toBe(0);
    // The denied hold counts as the guard's refusal; the later log_search ran through the router.
    expect(valueOf(metrics, "coven_pack_calls_total", { pack: "builtin:base", outcome: "guard_denied" })).toBe(1);
    expect(valueOf(metrics, "coven_pack_calls_total", { pack: "builtin:base", outcome: "ok" })).toBe(1);
  });

  it("expires after the approval timeout with `denied by approval`", async () => {
    const gw = await gateway({}, 200);
    const stream = await baseAgent(gw, "toolsmith");
    stream.send({ execute_pack_tool: { request_id: "held-3", tool_name: "log_entry", input_json: '{"message":"dangerous"}' } });
    expect((await resultOf(stream, "held-3")).error).toBe("denied by approval");
    expect((await approvalRow(gw, "held-3")).status).toBe("expired");
    expect(valueOf(await scrape(gw), "coven_pack_calls_total", { pack: "builtin:base", outcome: "guard_denied" })).toBe(1);
  });

  it("an abandoned call (agent stream gone) has its row canceled, so a late answer gets `already resolved`", async () => {
    const gw = await gateway();
    const stream = await baseAgent(gw, "toolsmith");
    stream.send({ execute_pack_tool: { request_id: "held-4", tool_name: "log_entry", input_json: '{"message":"dangerous"}' } });
    await waitPending(gw, "held-4");
    stream.cancel();
    await expect.poll(async () => (await approvalRow(gw, "held-4")).status).toBe("canceled");
    const late = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: "toolsmith", tool_id: "held-4", approved: true });
    expect(late).toEqual({ status: 409, json: { error: "tool approval already resolved" } });
    const metrics = await scrape(gw);
    expect(valueOf(metrics, "coven_approvals_total", { outcome: "canceled" })).toBe(1);
    // A caller gone is an `error` pack call, not a guard refusal.
    expect(valueOf(metrics, "coven_pack_calls_total", { pack: "builtin:base", outcome: "error" })).toBe(1);
    expect(valueOf(metrics, "coven_pack_calls_total", { pack: "builtin:base", outcome: "guard_denied" })).toBe(0);
  });

  it("a guard deny on ExecutePackTool does not run the call: `denied by guard: <message>`", async () => {
    const gw = await gateway({ rules: [{ ...HOLD_RULE, name: "no-logs", action: "deny", message: "logs are frozen" }] });
    const stream = await baseAgent(gw, "toolsmith");
    stream.send({ execute_pack_tool: { request_id: "d-1", tool_name: "log_entry", input_json: '{"message":"dangerous"}' } });
    expect((await resultOf(stream, "d-1")).error).toBe("denied by guard: logs are frozen");
    expect(await pendingOf(gw)).toEqual([]);
    expect(await guardRecords(gw)).toEqual([{ rule: "no-logs", action: "deny", source: "pack_tool", tool_name: "log_entry" }]);
    expect(valueOf(await scrape(gw), "coven_pack_calls_total", { pack: "builtin:base", outcome: "guard_denied" })).toBe(1);
  });
});

describe("gateway-held MCP tools/call (source mcp)", () => {
  it("holds the call until it is approved over WS tools.approve, then answers with the tool's result", async () => {
    const gw = await gateway();
    const ws = await WsClient.open(gw.httpUrl, await WsSchema.fetch(gw.httpUrl));
    cleanups.add(() => ws.close());
    await ws.hello();
    await ws.call("subscribe", { topic: "approvals" });
    const mcp = new Client({ name: "held-test", version: "0.0.1" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`)));
    cleanups.add(() => mcp.close());
    const call = mcp.callTool({ name: "log_entry", arguments: { message: "dangerous" } });
    const raised = await ws.waitFor((f) => f.event === "approval" && f.payload.kind === "raised");
    const approval = raised.payload.approval as { agent_id: string; tool_id: string; request_id: string };
    expect(approval).toMatchObject({ agent_id: "anonymous", tool_name: "log_entry" });
    expect(approval.tool_id).toBe(approval.request_id);
    const answer = await ws.call("tools.approve", { agent_id: approval.agent_id, tool_id: approval.tool_id, approved: true });
    expect(answer.payload).toEqual({ approved: true, success: true });
    const result = (await call) as { isError?: boolean; content: Array<{ text: string }> };
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(result.content[0]!.text)).toMatchObject({ status: "logged" });
  });

  it("denied over HTTP answers the MCP result isError `denied by approval`", async () => {
    const gw = await gateway();
    const mcp = new Client({ name: "held-test", version: "0.0.1" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`)));
    cleanups.add(() => mcp.close());
    const call = mcp.callTool({ name: "log_entry", arguments: { message: "dangerous" } });
    await expect.poll(async () => (await pendingOf(gw)).length).toBe(1);
    const [held] = await pendingOf(gw);
    const answer = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: held!.agent_id, tool_id: held!.tool_id, approved: false });
    expect(answer.status).toBe(200);
    expect(await call).toMatchObject({ isError: true, content: [{ type: "text", text: "denied by approval" }] });
    // The row carries the caller's principal: with auth off, the anonymous principal.
    expect((await approvalRow(gw, held!.tool_id as string)).principal_id).toBe("anonymous");
    expect(valueOf(await scrape(gw), "coven_pack_calls_total", { pack: "builtin:base", outcome: "guard_denied" })).toBe(1);
  });
});
