// ABOUTME: Idempotency keys for sends (store.md §7): lookup ignoring expired rows, insert, delete and sweep.
// ABOUTME: Insert can join the transaction that writes the user message, and takes over an expired row.
import type { Selectable } from "kysely";
import type { IdempotencyKeyRow } from "./schema.js";
import type { StoreExecutor } from "./transaction.js";
import type { WriteContext } from "./write-batcher.js";

/** A stored idempotency key: the fingerprint of the first call and what it produced. */
export interface IdempotencyKey {
  scope: string;
  key: string;
  /** SHA-256 hex of the canonical operation JSON. */
  requestHash: string;
  messageId: string;
  threadId: string;
  requestId: string | null;
  createdAt: string;
  expiresAt: string;
}

export interface IdempotencyRepository {
  /** The live row for (scope, key), ignoring rows whose expires_at ≤ now. */
  find(scope: string, key: string, now: string): Promise<IdempotencyKey | undefined>;
  /**
   * Writes the key, replacing an expired row for the same (scope, key). Returns false (and writes nothing)
   * when a live row already holds it. Pass `executor` (a transaction) to commit with the user message.
   */
  insert(row: IdempotencyKey, executor?: StoreExecutor): Promise<boolean>;
  /** Removes the key (after a failed dispatch, so a retry can succeed); true when a row was deleted. */
  delete(scope: string, key: string): Promise<boolean>;
  /** Deletes every row with expires_at ≤ now; returns how many. */
  sweepExpired(now: string): Promise<number>;
}

function toKey(row: Selectable<IdempotencyKeyRow>): IdempotencyKey {
  return {
    scope: row.scope,
    key: row.key,
    requestHash: row.request_hash,
    messageId: row.message_id,
    threadId: row.thread_id,
    requestId: row.request_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Creates the idempotency repository over `db` (the database or a transaction, see transaction.ts). Methods
 * throw only unexpected driver errors, which edges report as INTERNAL.
 */
export function createIdempotencyRepository(db: StoreExecutor): IdempotencyRepository {
  return {
    async find(scope, key, now) {
      const row = await db
        .selectFrom("idempotency_keys")
        .selectAll()
        .where("scope", "=", scope)
        .where("key", "=", key)
        .where("expires_at", ">", now)
        .executeTakeFirst();
      return row === undefined ? undefined : toKey(row);
    },

    async insert(key, executor = db) {
      const values = {
        request_hash: key.requestHash,
        message_id: key.messageId,
        thread_id: key.threadId,
        request_id: key.requestId,
        created_at: key.createdAt,
        expires_at: key.expiresAt,
      };
      const result = await executor
        .insertInto("idempotency_keys")
        .values({ scope: key.scope, key: key.key, ...values })
        .onConflict((oc) =>
          oc
            .columns(["scope", "key"])
            .doUpdateSet(values)
            .where("idempotency_keys.expires_at", "<=", key.createdAt),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },

    async delete(scope, key) {
      const result = await db
        .deleteFrom("idempotency_keys")
        .where("scope", "=", scope)
        .where("key", "=", key)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async sweepExpired(now) {
      const result = await db.deleteFrom("idempotency_keys").where("expires_at", "<=", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/** `insert`'s upsert as one prepared statement (a live row for the key wins; an expired one is taken over). */
const INSERT_KEY_SQL =
  "INSERT INTO idempotency_keys (scope, key, request_hash, message_id, thread_id, request_id, created_at, expires_at) " +
  "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, " +
  "message_id = excluded.message_id, thread_id = excluded.thread_id, request_id = excluded.request_id, " +
  "created_at = excluded.created_at, expires_at = excluded.expires_at WHERE idempotency_keys.expires_at <= excluded.created_at";

/**
 * `IdempotencyRepository.insert` for a `WriteBatcher` unit (write-batcher.ts): synchronous, inside the transaction
 * that writes the user message. Returns false (and writes nothing) when a live row already holds the key.
 */
export function insertIdempotencyKey(ctx: WriteContext, key: IdempotencyKey): boolean {
  const result = ctx
    .statement(INSERT_KEY_SQL)
    .run(key.scope, key.key, key.requestHash, key.messageId, key.threadId, key.requestId, key.createdAt, key.expiresAt);
  return result.changes > 0;
}
