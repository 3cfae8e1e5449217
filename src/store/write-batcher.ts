// ABOUTME: Group commit for the turn hot path: synchronous units of prepared-statement writes queued in one
// ABOUTME: event-loop turn commit in one transaction; a unit's promise settles only after that commit.
import type SQLite from "better-sqlite3";
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** What a unit gets: prepared statements by SQL text, cached for the life of the connection. */
export interface WriteContext {
  statement(sqlText: string): SQLite.Statement;
}

/**
 * A unit runs synchronously inside the batch's transaction. It may run twice (see `WriteBatcher.run`), so it must
 * have no effect outside the database besides computing its result.
 */
export type WriteUnit<T> = (ctx: WriteContext) => T;

export interface WriteBatcher {
  /**
   * Queues `unit`. Every unit queued before the next check phase of the event loop runs in one `BEGIN IMMEDIATE …
   * COMMIT`, in queue order, and its promise resolves with its result once that COMMIT returned, so a caller that
   * publishes after awaiting never shows a row that could still roll back. When a unit throws or the commit
   * fails, the batch is rolled back and each of its units runs again alone in its own transaction: only the
   * failing ones reject, each with its own error.
   */
  run<T>(unit: WriteUnit<T>): Promise<T>;
  /** Commits whatever is queued now; resolves once it has settled. */
  flush(): Promise<void>;
  /** Statements for running a unit inside a transaction the caller already holds (a Kysely transaction). */
  readonly context: WriteContext;
}

interface Pending {
  unit: WriteUnit<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Creates the batcher over the raw connection that `kysely` also uses. Kysely holds that one connection across
 * awaits only inside a transaction; when a flush finds one open (`sqlite.inTransaction`) it waits for Kysely's
 * connection (`kysely.connection()`), so raw writes never land in, or roll back with, someone else's transaction.
 */
export function createWriteBatcher(sqlite: SQLite.Database, kysely: Kysely<Database>): WriteBatcher {
  const statements = new Map<string, SQLite.Statement>();
  const context: WriteContext = {
    statement(sqlText) {
      let statement = statements.get(sqlText);
      if (statement === undefined) {
        statement = sqlite.prepare(sqlText);
        statements.set(sqlText, statement);
      }
      return statement;
    },
  };
  const begin = () => context.statement("BEGIN IMMEDIATE").run();
  const commit = () => context.statement("COMMIT").run();
  const rollback = () => {
    if (sqlite.inTransaction) context.statement("ROLLBACK").run();
  };

  let queue: Pending[] = [];
  let scheduled = false;
  let waiting: Promise<void> | undefined;

  function commitBatch(batch: Pending[]): void {
    const results: unknown[] = [];
    try {
      begin();
      for (const pending of batch) results.push(pending.unit(context));
      commit();
    } catch (err) {
      try {
        rollback();
      } catch {
        // The connection is unusable; the units below fail with their own errors.
      }
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      for (const pending of batch) commitBatch([pending]);
      return;
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
  }

  function drain(): void {
    const batch = queue;
    queue = [];
    if (batch.length > 0) commitBatch(batch);
  }

  function flushNow(): void {
    scheduled = false;
    if (waiting !== undefined || queue.length === 0) return;
    if (!sqlite.inTransaction) {
      drain();
      return;
    }
    // A Kysely transaction is open across an await: queue behind it on Kysely's connection. Units queued
    // meanwhile join this flush, so commit order stays queue order.
    waiting = kysely
      .connection()
      .execute(async () => {
        waiting = undefined;
        drain();
      })
      .catch((err: unknown) => {
        waiting = undefined;
        const failed = queue;
        queue = [];
        for (const pending of failed) pending.reject(err);
      });
  }

  return {
    context,
    run<T>(unit: WriteUnit<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ unit, resolve: resolve as (value: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flushNow);
        }
      });
    },
    async flush() {
      flushNow();
      while (waiting !== undefined) await waiting;
      // A flush that waited may have run later arrivals only; commit anything queued since.
      if (queue.length > 0) flushNow();
    },
  };
}
