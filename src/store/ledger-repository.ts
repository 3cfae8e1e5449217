// ABOUTME: The append-only conversation ledger (store.md §2, §5, §6): append with the timestamp rule, and reads.
// ABOUTME: `seq` is the only order; timestamps never decrease along it, so time filters and seq agree.
import { sql, type Selectable } from "kysely";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { randomIds, type IdSource } from "../lib/ids.js";
import { normalizePageLimit, encodeCursor } from "./cursor.js";
import type { LedgerDirection, LedgerEventRow, LedgerEventType } from "./schema.js";
import { inTransaction, type StoreExecutor } from "./transaction.js";
import { createUsageRepository } from "./usage-repository.js";

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
 * Creates the ledger repository over `db` (the database or a transaction, see transaction.ts). `append` joins
 * the caller's transaction when `db` is one, so the user message and its idempotency key commit together.
 * Methods throw only driver errors (e.g. an unknown thread_id violates the foreign key); edges map them to
 * INTERNAL.
 */
export function createLedgerRepository(db: StoreExecutor, clock: Clock, ids: IdSource = randomIds): LedgerRepository {
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
    /**
     * Appends one event with a single INSERT: timestamp = max(clock now, previous row's timestamp) computed in the
     * same statement, a fresh event_id unless given; migration 0002's trigger moves threads.updated_at. With
     * `linkUsageForRequestId` the request's usage rows are linked to the new event in the same transaction.
     */
    async append(input, options = {}) {
      const insert = async (executor: StoreExecutor): Promise<LedgerEvent> => {
        const now = isoTimestamp(clock.now());
        const row = {
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
          actor_member_id: null,
        };
        const inserted = await executor
          .insertInto("ledger_events")
          .values({
            ...row,
            timestamp: sql<string>`max(${now}, coalesce((select timestamp from ledger_events order by seq desc limit 1), ''))`,
          })
          .returning(["seq", "timestamp"])
          .executeTakeFirstOrThrow();
        return toEvent({ ...row, seq: inserted.seq, timestamp: inserted.timestamp });
      };
      const linkTo = options.linkUsageForRequestId;
      if (linkTo === undefined) return insert(db);
      return inTransaction(db, async (trx) => {
        const event = await insert(trx);
        await createUsageRepository(trx).linkMessage(linkTo, event.eventId);
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
