// ABOUTME: Token usage rows (message_usage): one per agent `usage` event, linked to the turn's final message.
// ABOUTME: Also computes usage stats (store.md §6): sums, total tokens and the distinct request count.
import { randomUUID } from "node:crypto";
import { sql, type Selectable } from "kysely";
import type { MessageUsageRow } from "./schema.js";
import type { StoreExecutor } from "./transaction.js";
import type { WriteBatcher } from "./write-batcher.js";

/** One usage event of an agent request. `messageId` is the final message's event_id once written. */
export interface MessageUsage {
  id: string;
  threadId: string;
  messageId: string | null;
  requestId: string;
  agentId: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  thinkingTokens: number;
  createdAt: string;
  /** Priced cost in millionths of the currency; null when unpriced (ops.md §4.2). */
  costMicros: number | null;
}

export interface NewMessageUsage {
  /** Defaults to a fresh UUIDv4. */
  id?: string;
  threadId: string;
  requestId: string;
  agentId: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  thinkingTokens: number;
  createdAt: string;
  /** Priced cost in millionths of the currency; absent or null leaves the row unpriced. */
  costMicros?: number | null;
}

/** Filters for stats; `since` is inclusive, `until` exclusive, both normalised ISO timestamps. */
export interface UsageFilter {
  agentId?: string;
  threadId?: string;
  since?: string;
  until?: string;
}

export interface UsageStats {
  totalInput: number;
  totalOutput: number;
  totalCacheRead: number;
  totalCacheWrite: number;
  totalThinking: number;
  /** input + output + thinking. */
  totalTokens: number;
  /** COUNT(DISTINCT request_id). */
  requestCount: number;
  /** Σ cost_micros of the priced rows. */
  costMicros: number;
  /** Distinct request ids among the rows that have an unpriced row. */
  unpricedRequests: number;
}

/** Priced spend (Σ cost_micros) per key since a timestamp, for seeding budgets (ops.md §4.4). */
export interface SpendRow {
  key: string;
  costMicros: number;
}

export interface UsageRepository {
  insert(usage: NewMessageUsage): Promise<MessageUsage>;
  /** Sets `message_id` on the request's rows that have none yet; returns how many rows changed. */
  linkMessage(requestId: string, messageId: string): Promise<number>;
  /** A thread's usage, oldest first (ties by rowid). */
  listByThread(threadId: string): Promise<MessageUsage[]>;
  stats(filter: UsageFilter): Promise<UsageStats>;
  /** Priced spend per agent_id of the rows created at or after `since`. */
  spendByAgent(since: string): Promise<SpendRow[]>;
  /**
   * Priced spend per principal of the rows created at or after `since`: the `actor_principal_id` of the turn's
   * inbound message (turns without a principal actor count for none).
   */
  spendByPrincipal(since: string): Promise<SpendRow[]>;
}

function toUsage(row: Selectable<MessageUsageRow>): MessageUsage {
  return {
    id: row.id,
    threadId: row.thread_id,
    messageId: row.message_id,
    requestId: row.request_id,
    agentId: row.agent_id,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cacheReadTokens: row.cache_read_tokens,
    cacheWriteTokens: row.cache_write_tokens,
    thinkingTokens: row.thinking_tokens,
    createdAt: row.created_at,
    costMicros: row.cost_micros,
  };
}

const INSERT_SQL =
  "INSERT INTO message_usage (id, thread_id, message_id, request_id, agent_id, input_tokens, output_tokens, " +
  "cache_read_tokens, cache_write_tokens, thinking_tokens, created_at, cost_micros) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/**
 * Creates the usage repository over `db` (the database or a transaction, see transaction.ts). With `writes` (the
 * store's `WriteBatcher`) `insert` is a prepared statement group-committed with the other writes of the same
 * event-loop turn, in queue order, so a turn's final message queued after its usage still links it; inside a
 * caller's transaction, or without `writes`, it goes through Kysely and joins that transaction. Writes throw the
 * driver's error on a CHECK (negative count) or foreign-key (unknown thread) violation; edges map it to INTERNAL.
 */
export function createUsageRepository(db: StoreExecutor, writes?: WriteBatcher): UsageRepository {
  return {
    async insert(usage) {
      const row: Selectable<MessageUsageRow> = {
        id: usage.id ?? randomUUID(),
        thread_id: usage.threadId,
        message_id: null,
        request_id: usage.requestId,
        agent_id: usage.agentId,
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cache_read_tokens: usage.cacheReadTokens,
        cache_write_tokens: usage.cacheWriteTokens,
        thinking_tokens: usage.thinkingTokens,
        created_at: usage.createdAt,
        cost_micros: usage.costMicros ?? null,
      };
      if (writes !== undefined && !db.isTransaction) {
        await writes.run((ctx) =>
          ctx
            .statement(INSERT_SQL)
            .run(
              row.id,
              row.thread_id,
              row.message_id,
              row.request_id,
              row.agent_id,
              row.input_tokens,
              row.output_tokens,
              row.cache_read_tokens,
              row.cache_write_tokens,
              row.thinking_tokens,
              row.created_at,
              row.cost_micros,
            ),
        );
      } else {
        await db.insertInto("message_usage").values(row).execute();
      }
      return toUsage(row);
    },

    async linkMessage(requestId, messageId) {
      const result = await db
        .updateTable("message_usage")
        .set({ message_id: messageId })
        .where("request_id", "=", requestId)
        .where("message_id", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async listByThread(threadId) {
      const rows = await db
        .selectFrom("message_usage")
        .selectAll()
        .where("thread_id", "=", threadId)
        .orderBy("created_at", "asc")
        .orderBy(sql`rowid`, "asc")
        .execute();
      return rows.map(toUsage);
    },

    async stats(filter) {
      let query = db.selectFrom("message_usage");
      if (filter.agentId !== undefined) query = query.where("agent_id", "=", filter.agentId);
      if (filter.threadId !== undefined) query = query.where("thread_id", "=", filter.threadId);
      if (filter.since !== undefined) query = query.where("created_at", ">=", filter.since);
      if (filter.until !== undefined) query = query.where("created_at", "<", filter.until);
      const row = await query
        .select((eb) => [
          eb.fn.coalesce(eb.fn.sum<number>("input_tokens"), sql<number>`0`).as("input"),
          eb.fn.coalesce(eb.fn.sum<number>("output_tokens"), sql<number>`0`).as("output"),
          eb.fn.coalesce(eb.fn.sum<number>("cache_read_tokens"), sql<number>`0`).as("cacheRead"),
          eb.fn.coalesce(eb.fn.sum<number>("cache_write_tokens"), sql<number>`0`).as("cacheWrite"),
          eb.fn.coalesce(eb.fn.sum<number>("thinking_tokens"), sql<number>`0`).as("thinking"),
          eb.fn.count<number>("request_id").distinct().as("requests"),
          eb.fn.coalesce(eb.fn.sum<number>("cost_micros"), sql<number>`0`).as("cost"),
          sql<number>`count(distinct case when cost_micros is null then request_id end)`.as("unpriced"),
        ])
        .executeTakeFirstOrThrow();
      const totalInput = Number(row.input);
      const totalOutput = Number(row.output);
      const totalThinking = Number(row.thinking);
      return {
        totalInput,
        totalOutput,
        totalCacheRead: Number(row.cacheRead),
        totalCacheWrite: Number(row.cacheWrite),
        totalThinking,
        totalTokens: totalInput + totalOutput + totalThinking,
        requestCount: Number(row.requests),
        costMicros: Number(row.cost),
        unpricedRequests: Number(row.unpriced),
      };
    },

    async spendByAgent(since) {
      const rows = await db
        .selectFrom("message_usage")
        .select((eb) => ["agent_id as key", eb.fn.sum<number>("cost_micros").as("cost")])
        .where("created_at", ">=", since)
        .where("cost_micros", "is not", null)
        .groupBy("agent_id")
        .execute();
      return rows.map((row) => ({ key: row.key, costMicros: Number(row.cost) }));
    },

    async spendByPrincipal(since) {
      const result = await sql<{ key: string; cost: number }>`
        SELECT le.actor_principal_id AS key, SUM(mu.cost_micros) AS cost
        FROM message_usage mu
        JOIN ledger_events le
          ON le.request_id = mu.request_id AND le.direction = 'inbound_to_agent' AND le.type = 'message'
        WHERE mu.created_at >= ${since} AND mu.cost_micros IS NOT NULL AND le.actor_principal_id IS NOT NULL
        GROUP BY le.actor_principal_id
      `.execute(db);
      return result.rows.map((row) => ({ key: row.key, costMicros: Number(row.cost) }));
    },
  };
}
