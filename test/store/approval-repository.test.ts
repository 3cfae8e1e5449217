// ABOUTME: Tests the tool-approval lifecycle: one pending row per request/tool, oldest resolved first,
// ABOUTME: exactly-once transitions (answer, expiry, cancellation) and the pending/expired listings.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApprovalRepository, type ApprovalRepository, type NewToolApproval } from "../../src/store/approval-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let approvals: ApprovalRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  approvals = createApprovalRepository(temp.store.db);
});

afterEach(async () => {
  await temp.cleanup();
});

const T0 = "2025-01-01T00:00:00.000Z";
const NOW = "2025-01-01T00:01:00.000Z";

function pending(overrides: Partial<NewToolApproval> = {}): NewToolApproval {
  return {
    agentId: "agent-1",
    principalId: "p-agent",
    requestId: "r1",
    toolId: "tool-1",
    toolName: "bash",
    inputJson: '{"cmd":"ls"}',
    createdAt: T0,
    expiresAt: "2025-01-01T00:05:00.000Z",
    ...overrides,
  };
}

describe("insertPending", () => {
  it("stores a pending row", async () => {
    const a = await approvals.insertPending(pending({ id: "a1" }));
    expect(a).toEqual({
      id: "a1",
      agentId: "agent-1",
      principalId: "p-agent",
      requestId: "r1",
      threadId: null,
      toolId: "tool-1",
      toolName: "bash",
      inputJson: '{"cmd":"ls"}',
      status: "pending",
      approveAll: false,
      createdAt: T0,
      expiresAt: "2025-01-01T00:05:00.000Z",
      resolvedAt: null,
      resolvedBy: null,
    });
    expect(await approvals.findById("a1")).toEqual(a);
  });

  it("writes no second row for a repeat while pending and returns the existing one", async () => {
    const first = await approvals.insertPending(pending({ id: "a1" }));
    const repeat = await approvals.insertPending(pending({ id: "a2", createdAt: NOW }));
    expect(repeat).toEqual(first);
    expect(await approvals.findById("a2")).toBeUndefined();
    expect(await approvals.listPending()).toHaveLength(1);
  });

  it("accepts a new pending row once the previous one left pending", async () => {
    await approvals.insertPending(pending({ id: "a1" }));
    await approvals.resolveOldest("agent-1", "tool-1", "denied", false, "alice", NOW);
    const again = await approvals.insertPending(pending({ id: "a2" }));
    expect(again.id).toBe("a2");
    expect(again.status).toBe("pending");
  });
});

describe("resolveOldest", () => {
  it("resolves the oldest pending row of (agent, tool) first, then the next, then reports already_resolved", async () => {
    await approvals.insertPending(pending({ id: "newer", requestId: "r2", createdAt: "2025-01-01T00:00:02.000Z" }));
    await approvals.insertPending(pending({ id: "older", requestId: "r1", createdAt: "2025-01-01T00:00:01.000Z" }));
    await approvals.insertPending(pending({ id: "other-tool", toolId: "tool-2" }));

    const first = await approvals.resolveOldest("agent-1", "tool-1", "approved", true, "alice", NOW);
    expect(first).toEqual({
      outcome: "resolved",
      approval: expect.objectContaining({ id: "older", status: "approved", approveAll: true, resolvedBy: "alice", resolvedAt: NOW }),
    });
    const second = await approvals.resolveOldest("agent-1", "tool-1", "denied", false, "bob", NOW);
    expect(second).toEqual({ outcome: "resolved", approval: expect.objectContaining({ id: "newer", status: "denied", approveAll: false }) });
    expect(await approvals.resolveOldest("agent-1", "tool-1", "approved", false, "carol", NOW)).toEqual({ outcome: "already_resolved" });
    expect((await approvals.findById("older"))?.resolvedBy).toBe("alice");
    expect((await approvals.findById("other-tool"))?.status).toBe("pending");
  });

  it("breaks created_at ties by insertion order", async () => {
    await approvals.insertPending(pending({ id: "first", requestId: "r1" }));
    await approvals.insertPending(pending({ id: "second", requestId: "r2" }));
    const result = await approvals.resolveOldest("agent-1", "tool-1", "approved", false, "alice", NOW);
    expect(result.outcome === "resolved" && result.approval.id).toBe("first");
  });

  it("reports not_found when (agent, tool) has no row at all", async () => {
    await approvals.insertPending(pending());
    expect(await approvals.resolveOldest("agent-2", "tool-1", "approved", false, "a", NOW)).toEqual({ outcome: "not_found" });
    expect(await approvals.resolveOldest("agent-1", "tool-9", "approved", false, "a", NOW)).toEqual({ outcome: "not_found" });
  });

  it("reports already_resolved for an expired or canceled row", async () => {
    const a = await approvals.insertPending(pending());
    await approvals.expire(a.id, NOW);
    expect(await approvals.resolveOldest("agent-1", "tool-1", "approved", false, "a", NOW)).toEqual({ outcome: "already_resolved" });
  });
});

describe("expire and cancel", () => {
  it("expires a pending row once, by system", async () => {
    const a = await approvals.insertPending(pending());
    expect(await approvals.expire(a.id, NOW)).toEqual(expect.objectContaining({ status: "expired", resolvedBy: "system", resolvedAt: NOW }));
    expect(await approvals.expire(a.id, "2025-01-01T00:09:00.000Z")).toBeUndefined();
    expect((await approvals.findById(a.id))?.resolvedAt).toBe(NOW);
  });

  it("does not expire an answered row", async () => {
    const a = await approvals.insertPending(pending());
    await approvals.resolveOldest("agent-1", "tool-1", "approved", false, "alice", NOW);
    expect(await approvals.expire(a.id, NOW)).toBeUndefined();
    expect((await approvals.findById(a.id))?.status).toBe("approved");
  });

  it("cancels only the request's pending rows", async () => {
    await approvals.insertPending(pending({ id: "a", requestId: "r1", toolId: "x" }));
    await approvals.insertPending(pending({ id: "b", requestId: "r1", toolId: "y" }));
    await approvals.insertPending(pending({ id: "c", requestId: "r2", toolId: "x" }));
    await approvals.resolveOldest("agent-1", "y", "approved", false, "alice", NOW);
    const canceled = await approvals.cancelForRequest("r1", NOW);
    expect(canceled.map((a) => [a.id, a.status, a.resolvedBy])).toEqual([["a", "canceled", "system"]]);
    expect((await approvals.findById("b"))?.status).toBe("approved");
    expect((await approvals.findById("c"))?.status).toBe("pending");
  });

  it("cancelAllPending cancels every pending row and nothing else", async () => {
    await approvals.insertPending(pending({ id: "a", requestId: "r1" }));
    await approvals.insertPending(pending({ id: "b", requestId: "r2", agentId: "agent-2" }));
    await approvals.insertPending(pending({ id: "c", requestId: "r3", toolId: "z" }));
    await approvals.expire("c", NOW);
    expect(await approvals.cancelAllPending(NOW)).toBe(2);
    expect(await approvals.listPending()).toEqual([]);
    expect((await approvals.findById("c"))?.status).toBe("expired");
  });
});

describe("listings", () => {
  it("lists pending rows oldest first, optionally for one agent", async () => {
    await approvals.insertPending(pending({ id: "late", requestId: "r1", createdAt: "2025-01-01T00:00:09.000Z" }));
    await approvals.insertPending(pending({ id: "early", requestId: "r2", createdAt: "2025-01-01T00:00:01.000Z" }));
    await approvals.insertPending(pending({ id: "agent2", requestId: "r3", agentId: "agent-2", createdAt: "2025-01-01T00:00:05.000Z" }));
    await approvals.insertPending(pending({ id: "done", requestId: "r4", toolId: "z" }));
    await approvals.expire("done", NOW);
    expect((await approvals.listPending()).map((a) => a.id)).toEqual(["early", "agent2", "late"]);
    expect((await approvals.listPending("agent-1")).map((a) => a.id)).toEqual(["early", "late"]);
  });

  it("lists pending rows whose expires_at has passed", async () => {
    await approvals.insertPending(pending({ id: "past", requestId: "r1", expiresAt: "2025-01-01T00:00:30.000Z" }));
    await approvals.insertPending(pending({ id: "edge", requestId: "r2", expiresAt: NOW }));
    await approvals.insertPending(pending({ id: "future", requestId: "r3", expiresAt: "2025-01-01T00:02:00.000Z" }));
    await approvals.insertPending(pending({ id: "gone", requestId: "r4", expiresAt: "2025-01-01T00:00:10.000Z" }));
    await approvals.cancelForRequest("r4", NOW);
    expect((await approvals.listExpiredPending(NOW)).map((a) => a.id)).toEqual(["past", "edge"]);
  });
});
