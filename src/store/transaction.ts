// ABOUTME: How the store groups writes: repositories run over an executor that may be a transaction.
// ABOUTME: `inTransaction` joins an enclosing transaction or opens a new one, so repositories compose.
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/**
 * What every repository factory takes: the database, or a `Transaction<Database>` (which is a
 * `Kysely<Database>` too). To make several writes atomic (e.g. the user message, its idempotency key and an
 * audit row), open one transaction and build the repositories over it:
 *
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   const event = await createLedgerRepository(trx, clock).append(input);
 *   await createIdempotencyRepository(trx).insert({ ...key, messageId: event.eventId });
 * });
 * ```
 */
export type StoreExecutor = Kysely<Database>;

/**
 * Runs `fn` in a transaction: inside the enclosing one when `db` already is a transaction (Kysely cannot nest
 * them), else in a new one that commits when `fn` resolves and rolls back when it throws.
 */
export async function inTransaction<T>(db: StoreExecutor, fn: (trx: StoreExecutor) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute(fn);
}
