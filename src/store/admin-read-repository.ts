// ABOUTME: Read-only queries behind the web admin's list pages that no other repository answers: latest threads
// ABOUTME: with message counts, recently resolved approvals, exact counts, and principals' last-seen times.
import { sql } from "kysely";
import type { StoreExecutor } from "./transaction.js";

export interface ThreadListing {
  id: string;
  frontend: string;
  externalId: string;
  agentId: string;
  createdAt: string;
  updatedAt: string;
  messages: number;
}

export interface ResolvedApproval {
  toolName: string;
  agentId: string;
  status: string;
  resolvedBy: string;
  resolvedAt: string;
}

export interface AdminReadRepository {
  /** Latest threads by updated_at DESC, optionally of one agent, with their ledger `message` counts. */
  latestThreads(limit: number, agentId?: string): Promise<ThreadListing[]>;
  threadCount(): Promise<number>;
  /** The last `limit` resolved approvals, newest first. */
  recentlyResolvedApprovals(limit: number): Promise<ResolvedApproval[]>;
  /** principal id → last_seen, for the principals table. */
  lastSeen(): Promise<Map<string, string>>;
}

export function createAdminReadRepository(db: StoreExecutor): AdminReadRepository {
  return {
    async latestThreads(limit, agentId) {
      let query = db
        .selectFrom("threads as t")
        .select([
          "t.id",
          "t.frontend_name",
          "t.external_id",
          "t.agent_id",
          "t.created_at",
          "t.updated_at",
          sql<number>`(select count(*) from ledger_events e where e.thread_id = t.id and e.type = 'message')`.as("messages"),
        ])
        .orderBy("t.updated_at", "desc")
        .limit(limit);
      if (agentId !== undefined) query = query.where("t.agent_id", "=", agentId);
      const rows = await query.execute();
      return rows.map((r) => ({
        id: r.id,
        frontend: r.frontend_name,
        externalId: r.external_id,
        agentId: r.agent_id,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        messages: Number(r.messages),
      }));
    },
    async threadCount() {
      const row = await db.selectFrom("threads").select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async recentlyResolvedApprovals(limit) {
      const rows = await db
        .selectFrom("tool_approvals")
        .select(["tool_name", "agent_id", "status", "resolved_by", "resolved_at"])
        .where("status", "!=", "pending")
        .orderBy("resolved_at", "desc")
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        toolName: r.tool_name,
        agentId: r.agent_id,
        status: String(r.status),
        resolvedBy: r.resolved_by ?? "system",
        resolvedAt: r.resolved_at ?? "",
      }));
    },
    async lastSeen() {
      const rows = await db.selectFrom("principals").select(["principal_id", "last_seen"]).execute();
      const out = new Map<string, string>();
      for (const r of rows) if (r.last_seen) out.set(r.principal_id, r.last_seen);
      return out;
    },
  };
}
