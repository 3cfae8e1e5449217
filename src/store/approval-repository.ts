// ABOUTME: Tool approvals requested by agents (store.md §2 tool_approvals): insert pending, resolve, expire, cancel.
// ABOUTME: Every transition out of `pending` is one guarded UPDATE (… WHERE status = 'pending'), so it happens once.
import { randomUUID } from "node:crypto";
import { sql, type Selectable } from "kysely";
import { GatewayError } from "../lib/gateway-error.js";
import type { ToolApprovalRow, ToolApprovalStatus } from "./schema.js";
import { SYSTEM_ACTOR } from "./audit-repository.js";
import type { StoreExecutor } from "./transaction.js";

/** A stored tool approval. */
export interface ToolApproval {
  id: string;
  agentId: string;
  principalId: string | null;
  requestId: string;
  threadId: string | null;
  /** `ToolApprovalRequest.id`. */
  toolId: string;
  toolName: string;
  inputJson: string;
  status: ToolApprovalStatus;
  approveAll: boolean;
  createdAt: string;
  expiresAt: string;
  resolvedAt: string | null;
  /** Actor string; `system` for expiry and cancellation. */
  resolvedBy: string | null;
}

export interface NewToolApproval {
  /** Defaults to a fresh UUIDv4. */
  id?: string;
  agentId: string;
  principalId?: string | null;
  requestId: string;
  threadId?: string | null;
  toolId: string;
  toolName: string;
  inputJson: string;
  createdAt: string;
  expiresAt: string;
}

export type ResolveOutcome =
  | { outcome: "resolved"; approval: ToolApproval }
  | { outcome: "not_found" }
  | { outcome: "already_resolved" };

export interface ApprovalRepository {
  /**
   * Inserts a pending approval, or returns the row already pending for (agent_id, request_id, tool_id) without
   * writing a second one (compare the returned `id` with the one passed to tell the two apart).
   */
  insertPending(input: NewToolApproval): Promise<ToolApproval>;
  /**
   * Inserts a row already `denied` by the command guard (ops.md §3.3): it never passes through `pending`,
   * `resolved_at` = `created_at`, `resolved_by` = the given actor (`guard:<rule>`).
   */
  insertDenied(input: NewToolApproval & { resolvedBy: string }): Promise<ToolApproval>;
  /** Marks one pending row `canceled` (by `system`): a gateway-held call that went away. Undefined when not pending. */
  cancel(id: string, now: string): Promise<ToolApproval | undefined>;
  findById(id: string): Promise<ToolApproval | undefined>;
  /** True when (agentId, toolId) names a gateway-held call's row (ops.md §3.4): those alone have no thread. */
  isGatewayHeld(agentId: string, toolId: string): Promise<boolean>;
  /**
   * Answers the oldest pending approval of (agentId, toolId): `not_found` when the pair has no row at all,
   * `already_resolved` when none is pending (or another answer won the race).
   */
  resolveOldest(
    agentId: string,
    toolId: string,
    status: "approved" | "denied",
    approveAll: boolean,
    resolvedBy: string,
    now: string,
  ): Promise<ResolveOutcome>;
  /** Marks one pending row `expired` (by `system`); the row when it changed, `undefined` when not pending. */
  expire(id: string, now: string): Promise<ToolApproval | undefined>;
  /** Cancels the request's pending rows (turn ended); returns the rows that changed. */
  cancelForRequest(requestId: string, now: string): Promise<ToolApproval[]>;
  /** Cancels every pending row (gateway start); returns how many changed. */
  cancelAllPending(now: string): Promise<number>;
  /** Pending rows, optionally of one agent, oldest first. */
  listPending(agentId?: string): Promise<ToolApproval[]>;
  /** Pending rows with expires_at ≤ now (the 30 s backstop sweep), soonest expiry first. */
  listExpiredPending(now: string): Promise<ToolApproval[]>;
}


function toApproval(row: Selectable<ToolApprovalRow>): ToolApproval {
  return {
    id: row.id,
    agentId: row.agent_id,
    principalId: row.principal_id,
    requestId: row.request_id,
    threadId: row.thread_id,
    toolId: row.tool_id,
    toolName: row.tool_name,
    inputJson: row.input_json,
    status: row.status,
    approveAll: row.approve_all === 1,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
  };
}

/**
 * Creates the approval repository over `db` (the database or a transaction, see transaction.ts). Methods throw
 * driver errors (e.g. an unknown thread_id violates the foreign key), which edges report as INTERNAL, and
 * GatewayError INTERNAL if an ignored insert finds no pending row (an impossible state).
 */
/** The columns of a new row from its input; `end` says whether it starts pending or already resolved. */
function newRow(
  input: NewToolApproval,
  end: { status: "pending" | "denied"; resolved_at: string | null; resolved_by: string | null },
) {
  return {
    id: input.id ?? randomUUID(),
    agent_id: input.agentId,
    principal_id: input.principalId ?? null,
    request_id: input.requestId,
    thread_id: input.threadId ?? null,
    tool_id: input.toolId,
    tool_name: input.toolName,
    input_json: input.inputJson,
    approve_all: 0,
    created_at: input.createdAt,
    expires_at: input.expiresAt,
    ...end,
  };
}

export function createApprovalRepository(db: StoreExecutor): ApprovalRepository {
  const findPending = async (agentId: string, requestId: string, toolId: string) =>
    db
      .selectFrom("tool_approvals")
      .selectAll()
      .where("agent_id", "=", agentId)
      .where("request_id", "=", requestId)
      .where("tool_id", "=", toolId)
      .where("status", "=", "pending")
      .executeTakeFirst();
  /** Ends one pending row as the system (cancel, expiry); undefined when it was no longer pending. */
  const endPending = async (id: string, status: "canceled" | "expired", now: string) => {
    const row = await db
      .updateTable("tool_approvals")
      .set({ status, resolved_at: now, resolved_by: SYSTEM_ACTOR })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : toApproval(row);
  };

  return {
    async insertPending(input) {
      const inserted = await db
        .insertInto("tool_approvals")
        .values(newRow(input, { status: "pending", resolved_at: null, resolved_by: null }))
        .onConflict((oc) =>
          oc.columns(["agent_id", "request_id", "tool_id"]).where(sql<boolean>`status = 'pending'`).doNothing(),
        )
        .returningAll()
        .executeTakeFirst();
      if (inserted !== undefined) return toApproval(inserted);
      const existing = await findPending(input.agentId, input.requestId, input.toolId);
      if (existing === undefined) throw new GatewayError("INTERNAL", "tool approval insert ignored but no pending row found");
      return toApproval(existing);
    },

    async insertDenied(input) {
      const row = await db
        .insertInto("tool_approvals")
        .values(newRow(input, { status: "denied", resolved_at: input.createdAt, resolved_by: input.resolvedBy }))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toApproval(row);
    },

    cancel: (id, now) => endPending(id, "canceled", now),

    async isGatewayHeld(agentId, toolId) {
      const row = await db
        .selectFrom("tool_approvals")
        .select("id")
        .where("agent_id", "=", agentId)
        .where("tool_id", "=", toolId)
        .where("thread_id", "is", null)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    async findById(id) {
      const row = await db.selectFrom("tool_approvals").selectAll().where("id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : toApproval(row);
    },

    async resolveOldest(agentId, toolId, status, approveAll, resolvedBy, now) {
      const oldestPending = db
        .selectFrom("tool_approvals")
        .select("id")
        .where("agent_id", "=", agentId)
        .where("tool_id", "=", toolId)
        .where("status", "=", "pending")
        .orderBy("created_at", "asc")
        .orderBy(sql`rowid`, "asc")
        .limit(1);
      const row = await db
        .updateTable("tool_approvals")
        .set({ status, approve_all: approveAll ? 1 : 0, resolved_at: now, resolved_by: resolvedBy })
        .where("id", "=", oldestPending)
        .where("status", "=", "pending")
        .returningAll()
        .executeTakeFirst();
      if (row !== undefined) return { outcome: "resolved", approval: toApproval(row) };
      const any = await db
        .selectFrom("tool_approvals")
        .select("id")
        .where("agent_id", "=", agentId)
        .where("tool_id", "=", toolId)
        .limit(1)
        .executeTakeFirst();
      return any === undefined ? { outcome: "not_found" } : { outcome: "already_resolved" };
    },

    expire: (id, now) => endPending(id, "expired", now),

    async cancelForRequest(requestId, now) {
      const rows = await db
        .updateTable("tool_approvals")
        .set({ status: "canceled", resolved_at: now, resolved_by: SYSTEM_ACTOR })
        .where("request_id", "=", requestId)
        .where("status", "=", "pending")
        .returningAll()
        .execute();
      return rows.map(toApproval);
    },

    async cancelAllPending(now) {
      const result = await db
        .updateTable("tool_approvals")
        .set({ status: "canceled", resolved_at: now, resolved_by: SYSTEM_ACTOR })
        .where("status", "=", "pending")
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async listPending(agentId) {
      let query = db.selectFrom("tool_approvals").selectAll().where("status", "=", "pending");
      if (agentId !== undefined) query = query.where("agent_id", "=", agentId);
      const rows = await query.orderBy("created_at", "asc").orderBy(sql`rowid`, "asc").execute();
      return rows.map(toApproval);
    },

    async listExpiredPending(now) {
      const rows = await db
        .selectFrom("tool_approvals")
        .selectAll()
        .where("status", "=", "pending")
        .where("expires_at", "<=", now)
        .orderBy("expires_at", "asc")
        .orderBy(sql`rowid`, "asc")
        .execute();
      return rows.map(toApproval);
    },
  };
}
