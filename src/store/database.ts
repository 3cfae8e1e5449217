// ABOUTME: Opens the SQLite database through Kysely, sets the pragmas and runs every pending migration.
// ABOUTME: The returned StoreDatabase is the single owner of the connection; close() ends it.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, Migrator, SqliteAdapter, SqliteDialect, type DialectAdapter } from "kysely";
import { GatewayError, describeError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import { migrationProvider } from "./migrations/index.js";
import type { Database } from "./schema.js";
import { withStatementCache } from "./statement-cache.js";
import { createWriteBatcher, type WriteBatcher } from "./write-batcher.js";

export interface OpenDatabaseOptions {
  /** File path, or `:memory:` for a private in-memory database. */
  path: string;
  log: Logger;
}

/** An open, fully migrated database. */
export interface StoreDatabase {
  db: Kysely<Database>;
  /** Group commit of the turn hot path's prepared-statement writes, over the same connection (write-batcher.ts). */
  writes: WriteBatcher;
  path: string;
  /** Commits queued writes, then closes the connection; later calls are no-ops. */
  close(): Promise<void>;
}

/** True for the paths that name a private in-memory database instead of a file. */
export function isMemoryDatabase(path: string): boolean {
  return path === ":memory:" || path === "";
}

function openConnection(path: string): SQLite.Database {
  if (!isMemoryDatabase(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    // Created 0600 like the token files: the database holds principals, secrets' hashes and every message. SQLite
    // gives its -wal and -shm files the database file's mode.
    if (!existsSync(path)) writeFileSync(path, "", { flag: "a", mode: 0o600 });
  }
  const sqlite = new SQLite(path);
  try {
    if (!isMemoryDatabase(path)) {
      sqlite.pragma("journal_mode = WAL");
      // WAL with synchronous=NORMAL never corrupts and loses nothing when the process dies; only the last commits
      // can roll back on power loss. FULL fsyncs the WAL on every commit, which doubled the cost of each send.
      sqlite.pragma("synchronous = NORMAL");
      // Checkpoint every 10 000 WAL pages (~40 MB) instead of 1 000: the ledger's hot pages are rewritten by every
      // append, and fewer checkpoints copy each of them once instead of many times (a turn's writes got ~37% cheaper).
      // The WAL file is truncated back to 64 MB after a checkpoint.
      sqlite.pragma("wal_autocheckpoint = 10000");
      sqlite.pragma("journal_size_limit = 67108864");
    }
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("busy_timeout = 5000");
  } catch (err) {
    sqlite.close();
    throw err;
  }
  return sqlite;
}

/**
 * SQLite's DDL is transactional, but Kysely's SQLite adapter says it is not, so its Migrator would apply each
 * statement on its own: a gateway killed during its first start (Ctrl-C while migrating) left `threads` created and
 * 0001 unrecorded, and every later start failed with "table threads already exists". With this adapter the Migrator
 * runs all pending migrations and their bookkeeping rows in one transaction: all of them land, or none.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class MigratingSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** Runs `migrateToLatest` and turns a failure into a GatewayError after logging the failing migration. */
async function migrate(db: Kysely<Database>, log: Logger): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  for (const result of results ?? []) {
    if (result.status === "Success") log.info("migration applied", { migration: result.migrationName });
  }
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
  log.error("migration failed", { migration: failed, error: describeError(error) });
  throw new GatewayError("INTERNAL", `migration failed: ${failed}: ${describeError(error)}`, { cause: error });
}

/**
 * Opens the database at `path` (creating missing parent directories with mode 0750 and a new file with mode 0600), sets
 * `journal_mode=WAL` (file databases only), `foreign_keys=ON` and `busy_timeout=5000`, and migrates to the
 * latest schema before returning. Throws GatewayError INTERNAL when the file cannot be opened or a migration
 * fails; the connection is closed in both cases.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<StoreDatabase> {
  const { path, log } = options;
  let sqlite: SQLite.Database;
  try {
    sqlite = openConnection(path);
  } catch (err) {
    throw new GatewayError("INTERNAL", `cannot open database ${path}: ${describeError(err)}`, { cause: err });
  }
  const db = new Kysely<Database>({ dialect: new MigratingSqliteDialect({ database: withStatementCache(sqlite) }) });
  try {
    await migrate(db, log);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const writes = createWriteBatcher(sqlite, db);
  let closed = false;
  return {
    db,
    writes,
    path,
    close: async () => {
      if (closed) return;
      closed = true;
      await writes.flush();
      await db.destroy();
    },
  };
}
