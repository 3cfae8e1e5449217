// ABOUTME: Tests gateway-owned tool approvals with a real store and AgentManager: record, answer once (audited),
// ABOUTME: oldest first, expiry with a deny frame, cancellation when the turn ends, and visibility after reconnect.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { createApprovalRepository } from "../../src/store/approval-repository.js";
import { createManualClock, openTempDatabase, type ManualClock, type TempDatabase } from "../store/temp-database.js";
import { buildDomain, describeItem, FakeAgent, startTurn, until, type Domain } from "./conversation-harness.js";

const T0 = "2025-03-01T10:00:00.000Z";

let temp: TempDatabase;
let clock: ManualClock;
let domain: Domain;
let agent: FakeAgent;

async function setUp(approvalTimeoutMs?: number): Promise<void> {
  temp = await openTempDatabase();
  clock = createManualClock(T0);
  domain = buildDomain(temp.store, clock, { approvalTimeoutMs });
  agent = new FakeAgent(domain.agents, "agent-a");
  await agent.register();
}

afterEach(async () => {
  vi.useRealTimers();
  agent.disconnect();
  await domain.conversations.drain();
  domain.close();
  await temp.cleanup();
});

/** Starts a turn and has the agent ask approval for `toolId`; resolves once the row is pending. */
async function requestApproval(toolId: string): Promise<{ requestId: string; finished: Promise<void> }> {
  const turn = await startTurn(domain, agent);
  agent.respond(turn.requestId, { kind: "tool_approval", id: toolId, name: "bash", inputJson: '{"cmd":"ls"}', requestId: turn.requestId });
  await until(async () => (await domain.approvals.listPending("agent-a")).some((a) => a.requestId === turn.requestId), "pending row");
  return turn;
}

async function expectError(promise: Promise<unknown>, code: string, message: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isGatewayError(err)).toBe(true);
  expect({ code: (err as { code: string }).code, message: (err as Error).message }).toEqual({ code, message });
}

async function auditRows() {
  return temp.store.db.selectFrom("audit_log").selectAll().execute();
}

describe("ApprovalService", () => {
  beforeEach(async () => {
    await setUp();
  });

  it("records a pending row with expires_at = created + 300 s", async () => {
    const { requestId } = await requestApproval("t1");
    const [row] = await domain.approvals.listPending("agent-a");
    expect(row).toMatchObject({
      agentId: "agent-a",
      principalId: "p-agent-a",
      requestId,
      toolId: "t1",
      toolName: "bash",
      inputJson: '{"cmd":"ls"}',
      status: "pending",
      createdAt: T0,
      expiresAt: "2025-03-01T10:05:00.000Z",
    });
    expect(row?.threadId).not.toBeNull();
  });

  it("answers once: approves, audits in the same step and writes the decision to the agent", async () => {
    const { requestId } = await requestApproval("t1");
    const approval = await domain.approvals.answer({ agentId: "agent-a", toolId: "t1", approved: true, approveAll: true, actor: "client-1" });
    expect(approval).toMatchObject({ status: "approved", approveAll: true, resolvedBy: "client-1", requestId });
    expect(agent.approvalFrames()).toEqual([{ kind: "tool_approval", id: "t1", approved: true, approveAll: true }]);
    const audit = await auditRows();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_principal_id: "client-1", action: "approve_tool", target_type: "tool_approval", target_id: approval.id });
    expect(JSON.parse(audit[0]?.detail_json ?? "")).toEqual({
      agent_id: "agent-a",
      tool_id: "t1",
      request_id: requestId,
      approved: true,
      approve_all: true,
    });

    await expectError(
      domain.approvals.answer({ agentId: "agent-a", toolId: "t1", approved: false, approveAll: false, actor: "client-2" }),
      "FAILED_PRECONDITION",
      "tool approval already resolved",
    );
    expect(agent.approvalFrames()).toHaveLength(1);
    expect(await auditRows()).toHaveLength(1);
  });

  it("lets exactly one of two concurrent answers win", async () => {
    await requestApproval("t1");
    const results = await Promise.allSettled([
      domain.approvals.answer({ agentId: "agent-a", toolId: "t1", approved: true, approveAll: false, actor: "a" }),
      domain.approvals.answer({ agentId: "agent-a", toolId: "t1", approved: false, approveAll: false, actor: "b" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((rejected.reason as Error).message).toBe("tool approval already resolved");
    expect(agent.approvalFrames()).toHaveLength(1);
  });

  it("checks agent, then row, in that order, with the exact errors", async () => {
    await expectError(
      domain.approvals.answer({ agentId: "nobody", toolId: "nothing", approved: true, approveAll: false, actor: "c" }),
      "NOT_FOUND",
      "agent not found",
    );
    await expectError(
      domain.approvals.answer({ agentId: "agent-a", toolId: "nothing", approved: true, approveAll: false, actor: "c" }),
      "NOT_FOUND",
      "tool approval not found",
    );
  });

  it("resolves the oldest pending row of (agent, tool) first", async () => {
    const first = await requestApproval("t1");
    clock.set("2025-03-01T10:00:01.000Z");
    const second = await requestApproval("t1");
    const a = await domain.approvals.answer({ agentId: "agent-a", toolId: "t1", approved: false, approveAll: false, actor: "c" });
    expect(a).toMatchObject({ requestId: first.requestId, status: "denied" });
    const pending = await domain.approvals.listPending("agent-a");
    expect(pending.map((p) => p.requestId)).toEqual([second.requestId]);
    const b = await domain.approvals.answer({ agentId: "agent-a", toolId: "t1", approved: true, approveAll: false, actor: "c" });
    expect(b).toMatchObject({ requestId: second.requestId, status: "approved" });
  });

  it("cancels the request's pending approvals when the turn ends", async () => {
    const turn = await requestApproval("t1");
    agent.respond(turn.requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    await turn.finished;
    const rows = await temp.store.db.selectFrom("tool_approvals").selectAll().execute();
    expect(rows.map((r) => [r.status, r.resolved_by])).toEqual([["canceled", "system"]]);
    await expectError(
      domain.approvals.answer({ agentId: "agent-a", toolId: "t1", approved: true, approveAll: false, actor: "c" }),
      "FAILED_PRECONDITION",
      "tool approval already resolved",
    );
    expect(agent.approvalFrames()).toEqual([]);
  });

  it("cancels pending approvals when the agent disconnects", async () => {
    const turn = await requestApproval("t1");
    agent.disconnect();
    await turn.finished;
    const rows = await temp.store.db.selectFrom("tool_approvals").select("status").execute();
    expect(rows).toEqual([{ status: "canceled" }]);
  });

  it("keeps the row resolved and reports `failed to send approval` when the write fails", async () => {
    await requestApproval("t1");
    agent.failWrites = true;
    await expectError(
      domain.approvals.answer({ agentId: "agent-a", toolId: "t1", approved: true, approveAll: false, actor: "c" }),
      "INTERNAL",
      "failed to send approval",
    );
    const rows = await temp.store.db.selectFrom("tool_approvals").select(["status", "resolved_by"]).execute();
    expect(rows).toEqual([{ status: "approved", resolved_by: "c" }]);
  });

  it("shows a pending approval to a subscriber that reconnects", async () => {
    const first = domain.openStream("agent-a");
    const firstIt = first[Symbol.asyncIterator]();
    const turn = await startTurn(domain, agent);
    agent.respond(turn.requestId, { kind: "tool_approval", id: "t1", name: "bash", inputJson: "{}", requestId: turn.requestId });
    const seen: string[] = [];
    while (!seen.includes("tool_approval:t1")) {
      const next = await firstIt.next();
      seen.push(describeItem(next.value as never));
    }
    first.close();
    expect((await firstIt.next()).done).toBe(true);

    const second = domain.openStream("agent-a");
    const secondIt = second[Symbol.asyncIterator]();
    const items: string[] = [];
    agent.respond(turn.requestId, { kind: "text", text: "after" });
    while (!items.includes("text:after")) items.push(describeItem((await secondIt.next()).value as never));
    second.close();
    expect(items.filter((i) => i === "tool_approval:t1")).toHaveLength(1);
    expect(items.indexOf("tool_approval:t1")).toBeLessThan(items.indexOf("text:after"));
  });

  it("cancels every pending row at startup", async () => {
    await requestApproval("t1");
    expect(await domain.approvals.cancelAllPending()).toBe(1);
    expect(await domain.approvals.listPending()).toEqual([]);
  });

  it("expires overdue rows in the backstop sweep and denies them to the agent", async () => {
    await requestApproval("t1");
    clock.set("2025-03-01T10:04:59.999Z");
    await domain.approvals.sweepExpired();
    expect(await domain.approvals.listPending()).toHaveLength(1);
    clock.set("2025-03-01T10:05:00.000Z");
    await domain.approvals.sweepExpired();
    expect(await domain.approvals.listPending()).toEqual([]);
    expect(agent.approvalFrames()).toEqual([{ kind: "tool_approval", id: "t1", approved: false, approveAll: false }]);
  });
});

describe("ApprovalService timer", () => {
  it("expires a row when its timeout passes and sends the deny frame", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    await setUp(1_000);
    const { requestId } = await requestApproval("t1");
    await vi.advanceTimersByTimeAsync(999);
    expect(agent.approvalFrames()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => agent.approvalFrames().length === 1, "deny frame");
    expect(agent.approvalFrames()).toEqual([{ kind: "tool_approval", id: "t1", approved: false, approveAll: false }]);
    const row = await createApprovalRepository(temp.store.db).listPending();
    expect(row).toEqual([]);
    const stored = await temp.store.db.selectFrom("tool_approvals").selectAll().where("request_id", "=", requestId).execute();
    expect(stored.map((r) => [r.status, r.resolved_by])).toEqual([["expired", "system"]]);
    await expectError(
      domain.approvals.answer({ agentId: "agent-a", toolId: "t1", approved: true, approveAll: false, actor: "c" }),
      "FAILED_PRECONDITION",
      "tool approval already resolved",
    );
  });
});
