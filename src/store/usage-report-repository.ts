// ABOUTME: Usage reports of the web admin's usage page (web-admin.md §5.10): totals per agent and tokens per day
// ABOUTME: per agent over message_usage, within an optional [since, until) range.
import { sql } from "kysely";
import type { StoreExecutor } from "./transaction.js";

export interface UsageTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  thinking: number;
  /** input + output + thinking. */
  total: number;
  requests: number;
}

export interface UsageRange {
  /** Inclusive normalised ISO timestamp. */
  since?: string | undefined;
  /** Exclusive normalised ISO timestamp. */
  until?: string | undefined;
}

export interface UsageReportRepository {
  /** Per-agent totals, total DESC, with the priced cost (Σ `cost_micros`; unpriced rows count 0, ops.md §4.2). */
  byAgent(range: UsageRange): Promise<Array<{ agentId: string; costMicros: number } & UsageTotals>>;
  /** Tokens (input + output + thinking) per UTC day and agent, days ascending. */
  dailyByAgent(range: UsageRange): Promise<Array<{ day: string; agentId: string; tokens: number }>>;
}

export function createUsageReportRepository(db: StoreExecutor): UsageReportRepository {
  return {
    async byAgent(range) {
      let query = db
        .selectFrom("message_usage")
        .select([
          "agent_id",
          sql<number>`coalesce(sum(input_tokens), 0)`.as("input"),
          sql<number>`coalesce(sum(output_tokens), 0)`.as("output"),
          sql<number>`coalesce(sum(cache_read_tokens), 0)`.as("cache_read"),
          sql<number>`coalesce(sum(cache_write_tokens), 0)`.as("cache_write"),
          sql<number>`coalesce(sum(thinking_tokens), 0)`.as("thinking"),
          sql<number>`count(distinct request_id)`.as("requests"),
          sql<number>`coalesce(sum(cost_micros), 0)`.as("cost_micros"),
        ])
        .groupBy("agent_id");
      if (range.since) query = query.where("created_at", ">=", range.since);
      if (range.until) query = query.where("created_at", "<", range.until);
      const rows = await query.execute();
      return rows
        .map((r) => {
          const input = Number(r.input);
          const output = Number(r.output);
          const thinking = Number(r.thinking);
          return {
            agentId: r.agent_id,
            input,
            output,
            cacheRead: Number(r.cache_read),
            cacheWrite: Number(r.cache_write),
            thinking,
            total: input + output + thinking,
            requests: Number(r.requests),
            costMicros: Number(r.cost_micros),
          };
        })
        .sort((a, b) => b.total - a.total || a.agentId.localeCompare(b.agentId));
    },
    async dailyByAgent(range) {
      let query = db
        .selectFrom("message_usage")
        .select([
          sql<string>`substr(created_at, 1, 10)`.as("day"),
          "agent_id",
          sql<number>`coalesce(sum(input_tokens + output_tokens + thinking_tokens), 0)`.as("tokens"),
        ])
        .groupBy([sql`substr(created_at, 1, 10)`, "agent_id"])
        .orderBy(sql`substr(created_at, 1, 10)`);
      if (range.since) query = query.where("created_at", ">=", range.since);
      if (range.until) query = query.where("created_at", "<", range.until);
      const rows = await query.execute();
      return rows.map((r) => ({ day: r.day, agentId: r.agent_id, tokens: Number(r.tokens) }));
    },
  };
}
