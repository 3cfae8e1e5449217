// ABOUTME: The append-only conversation ledger (store.md §2, §5, §6): append with the timestamp rule, and reads.
// ABOUTME: `seq` is the only order; timestamps never decrease along it, so time filters and seq agree.
import { CompiledQuery, type Selectable } from "kysely";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { randomIds, type IdSource } from "../lib/ids.js";
import { normalizePageLimit, encodeCursor } from "./cursor.js";
import type { LedgerDirection, LedgerEventRow, LedgerEventType } from "./schema.js";
import { inTransaction, type StoreExecutor } from "./transaction.js";
import type { WriteBatcher, WriteContext } from "./write-batcher.js";

/** A ledger row to append; the store assigns seq and timestamp. */
export interface NewLedgerEvent {
  /** A UUIDv4 chosen by the caller when it must know the id in advance; else a fresh one. */
  eventId?: string;
  conversationKey: string;
  threadId?: string | null;
  requestId?: string | null;
  direction: LedgerDirection;
  author: string;
  type: LedgerEventType;
  text?: string | null;
  rawTransport?: string | null;
  rawPayloadRef?: string | null;
  actorPrincipalId?: string | null;
}

/** A stored ledger event. */
export interface LedgerEvent {
  seq: number;
  eventId: string;
  conversationKey: string;
  threadId: string | null;
  requestId: string | null;
  direction: LedgerDirection;
  author: string;
  timestamp: string;
  type: LedgerEventType;
  text: string | null;
  rawTransport: string | null;
  rawPayloadRef: string | null;
  actorPrincipalId: string | null;
}

export interface AppendOptions {
  /** Links this request's unlinked message_usage rows to the new event (the turn's final/partial message). */
  linkUsageForRequestId?: string;
}

/** A GetEvents/history query. `since`/`until` are inclusive, already-normalised ISO timestamps. */
export interface ConversationQuery {
  conversationKey: string;
  since?: string;
  until?: string;
  /** Only events with seq greater than this (the decoded cursor). */
  afterSeq?: number;
  /** Page size; normalised by `normalizePageLimit` (50 when ≤ 0, at most 500). */
  limit?: number;
}

export interface ConversationPage {
  events: LedgerEvent[];
  hasMore: boolean;
  /** Cursor at the last returned event; set only when `hasMore`. */
  nextCursor?: string;
}

export interface LedgerRepository {
  append(input: NewLedgerEvent, options?: AppendOptions): Promise<LedgerEvent>;
  listConversation(query: ConversationQuery): Promise<ConversationPage>;
  /** The newest `n` events of a thread, in chronological (seq) order. */
  newestInThread(threadId: string, n: number): Promise<LedgerEvent[]>;
  /** The newest `n` events of a conversation, in chronological (seq) order. */
  newestInConversation(conversationKey: string, n: number): Promise<LedgerEvent[]>;
  /** The event with this public id, optionally only within one conversation. */
  findByEventId(eventId: string, conversationKey?: string): Promise<LedgerEvent | undefined>;
  /** Up to `limit` events of a conversation with seq > afterSeq, ascending (StreamEvents catch-up). */
  listConversationAfterSeq(conversationKey: string, afterSeq: number, limit: number): Promise<LedgerEvent[]>;
  /** Every event of one agent request, in seq order. */
  findByRequestId(requestId: string): Promise<LedgerEvent[]>;
  /**
   * Turns whose inbound user message has no terminal row (an outbound `message`, `error` or `system` with the same
   * request id), oldest first: what a previous run left in flight when it died.
   */
  listUnterminatedTurns(): Promise<UnterminatedTurn[]>;
}

/** The identity of a turn that never got its terminal row (store.md §5). */
export interface UnterminatedTurn {
  conversationKey: string;
  threadId: string | null;
  requestId: string;
}

function toEvent(row: Selectable<LedgerEventRow>): LedgerEvent {
  return {
    seq: row.seq,
    eventId: row.event_id,
    conversationKey: row.conversation_key,
    threadId: row.thread_id,
    requestId: row.request_id,
    direction: row.direction,
    author: row.author,
    timestamp: row.timestamp,
    type: row.type,
    text: row.text,
    rawTransport: row.raw_transport,
    rawPayloadRef: row.raw_payload_ref,
    actorPrincipalId: row.actor_principal_id,
  };
}

/**
 * The one append statement, shared by the prepared hot path and the Kysely path: timestamp = max(now, the previous
 * row's timestamp) computed in the same statement, so timestamps never decrease along seq; migration 0002's trigger
 * moves threads.updated_at.
 */
const APPEND_SQL =
  "INSERT INTO ledger_events (event_id, conversation_key, thread_id, request_id, direction, author, type, text, " +
  "raw_transport, raw_payload_ref, actor_principal_id, actor_member_id, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, " +
  "max(?, coalesce((SELECT timestamp FROM ledger_events ORDER BY seq DESC LIMIT 1), ''))) RETURNING seq, timestamp";

/** Links a request's unlinked usage rows to its final (or partial) message. */
const LINK_USAGE_SQL = "UPDATE message_usage SET message_id = ? WHERE request_id = ? AND message_id IS NULL";

type AppendRow = Omit<Selectable<LedgerEventRow>, "seq" | "timestamp" | "actor_member_id">;

function appendRow(input: NewLedgerEvent, ids: IdSource): AppendRow {
  return {
    event_id: input.eventId ?? ids.uuid(),
    conversation_key: input.conversationKey,
    thread_id: input.threadId ?? null,
    request_id: input.requestId ?? null,
    direction: input.direction,
    author: input.author,
    type: input.type,
    text: input.text ?? null,
    raw_transport: input.rawTransport ?? null,
    raw_payload_ref: input.rawPayloadRef ?? null,
    actor_principal_id: input.actorPrincipalId ?? null,
  };
}

function appendParams(row: AppendRow, now: string): unknown[] {
  return [
    row.event_id,
    row.conversation_key,
    row.thread_id,
    row.request_id,
    row.direction,
    row.author,
    row.type,
    row.text,
    row.raw_transport,
    row.raw_payload_ref,
    row.actor_principal_id,
    now,
  ];
}

function appended(row: AppendRow, inserted: { seq: number; timestamp: string }): LedgerEvent {
  return toEvent({ ...row, actor_member_id: null, seq: inserted.seq, timestamp: inserted.timestamp });
}

/**
 * Appends one event with prepared statements, synchronously, inside the transaction the caller holds (a
 * `WriteBatcher` unit, see write-batcher.ts). With `linkUsageForRequestId` the request's usage rows are linked to
 * the new event in the same transaction. Throws the driver's error (e.g. an unknown thread_id).
 */
export function appendLedgerEvent(
  ctx: WriteContext,
  input: NewLedgerEvent,
  now: string,
  ids: IdSource,
  options: AppendOptions = {},
): LedgerEvent {
  const row = appendRow(input, ids);
  const inserted = ctx.statement(APPEND_SQL).get(...appendParams(row, now)) as { seq: number; timestamp: string };
  if (options.linkUsageForRequestId !== undefined) {
    ctx.statement(LINK_USAGE_SQL).run(row.event_id, options.linkUsageForRequestId);
  }
  return appended(row, inserted);
}

/**
 * Creates the ledger repository over `db` (the database or a transaction, see transaction.ts). With `writes`
 * (the store's `WriteBatcher`) `append` is a prepared statement group-committed with the other writes of the same
 * event-loop turn; inside a caller's transaction, or without `writes`, it runs the same statement through Kysely
 * and joins that transaction. Methods throw only driver errors (e.g. an unknown thread_id violates the foreign
 * key); edges map them to INTERNAL.
 */
export function createLedgerRepository(
  db: StoreExecutor,
  clock: Clock,
  ids: IdSource = randomIds,
  writes?: WriteBatcher,
): LedgerRepository {
  const newest = async (column: "thread_id" | "conversation_key", value: string, n: number) => {
    if (n <= 0) return [];
    const rows = await db
      .selectFrom("ledger_events")
      .selectAll()
      .where(column, "=", value)
      .orderBy("seq", "desc")
      .limit(n)
      .execute();
    return rows.reverse().map(toEvent);
  };

  return {
    async append(input, options = {}) {
      if (writes !== undefined && !db.isTransaction) {
        return writes.run((ctx) => appendLedgerEvent(ctx, input, isoTimestamp(clock.now()), ids, options));
      }
      const insert = async (executor: StoreExecutor): Promise<LedgerEvent> => {
        const row = appendRow(input, ids);
        const result = await executor.executeQuery<{ seq: number; timestamp: string }>(
          CompiledQuery.raw(APPEND_SQL, appendParams(row, isoTimestamp(clock.now()))),
        );
        const inserted = result.rows[0];
        if (inserted === undefined) throw new Error("ledger append returned no row");
        return appended(row, inserted);
      };
      const linkTo = options.linkUsageForRequestId;
      if (linkTo === undefined) return insert(db);
      return inTransaction(db, async (trx) => {
        const event = await insert(trx);
        await trx.executeQuery(CompiledQuery.raw(LINK_USAGE_SQL, [event.eventId, linkTo]));
        return event;
      });
    },

    async listConversation(query) {
      const limit = normalizePageLimit(query.limit);
      let select = db.selectFrom("ledger_events").selectAll().where("conversation_key", "=", query.conversationKey);
      if (query.since !== undefined) select = select.where("timestamp", ">=", query.since);
      if (query.until !== undefined) select = select.where("timestamp", "<=", query.until);
      if (query.afterSeq !== undefined) select = select.where("seq", ">", query.afterSeq);
      const rows = await select.orderBy("seq", "asc").limit(limit + 1).execute();
      const hasMore = rows.length > limit;
      const events = rows.slice(0, limit).map(toEvent);
      const last = events[events.length - 1];
      return hasMore && last !== undefined ? { events, hasMore, nextCursor: encodeCursor(last.seq) } : { events, hasMore };
    },

    newestInThread: (threadId, n) => newest("thread_id", threadId, n),

    newestInConversation: (conversationKey, n) => newest("conversation_key", conversationKey, n),

    async findByEventId(eventId, conversationKey) {
      let select = db.selectFrom("ledger_events").selectAll().where("event_id", "=", eventId);
      if (conversationKey !== undefined) select = select.where("conversation_key", "=", conversationKey);
      const row = await select.executeTakeFirst();
      return row === undefined ? undefined : toEvent(row);
    },

    async listConversationAfterSeq(conversationKey, afterSeq, limit) {
      if (limit <= 0) return [];
      const rows = await db
        .selectFrom("ledger_events")
        .selectAll()
        .where("conversation_key", "=", conversationKey)
        .where("seq", ">", afterSeq)
        .orderBy("seq", "asc")
        .limit(limit)
        .execute();
      return rows.map(toEvent);
    },

    async findByRequestId(requestId) {
      const rows = await db
        .selectFrom("ledger_events")
        .selectAll()
        .where("request_id", "=", requestId)
        .orderBy("seq", "asc")
        .execute();
      return rows.map(toEvent);
    },

    async listUnterminatedTurns() {
      const rows = await db
        .selectFrom("ledger_events as turn")
        .select(["turn.conversation_key", "turn.thread_id", "turn.request_id"])
        .where("turn.direction", "=", "inbound_to_agent")
        .where("turn.type", "=", "message")
        .where("turn.request_id", "is not", null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("ledger_events as terminal")
                .select("terminal.seq")
                .whereRef("terminal.request_id", "=", "turn.request_id")
                .where("terminal.direction", "=", "outbound_from_agent")
                .where("terminal.type", "in", ["message", "error", "system"]),
            ),
          ),
        )
        .orderBy("turn.seq", "asc")
        .execute();
      return rows.flatMap((row) =>
        row.request_id === null ? [] : [{ conversationKey: row.conversation_key, threadId: row.thread_id, requestId: row.request_id }],
      );
    },
  };
}
