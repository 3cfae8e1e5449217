// ABOUTME: Tests openDatabase: migrations create every table, reopen is idempotent, pragmas, dirs, failures.
// ABOUTME: Uses real temp-file SQLite databases opened through the real migrator.
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { createMemoryLogger, silentLogger } from "../../src/lib/logger.js";
import { openDatabase, type StoreDatabase } from "../../src/store/database.js";
import { makeTempDir } from "./temp-database.js";

const TABLES = [
  "threads",
  "ledger_events",
  "message_usage",
  "settings",
  "pair_tokens",
  "tool_approvals",
  "user_questions",
  "idempotency_keys",
  "principals",
  "roles",
  "audit_log",
  "bindings",
  "link_codes",
  "admin_users",
  "admin_sessions",
  "admin_invites",
  "webauthn_credentials",
  "log_entries",
  "todos",
  "bbs_posts",
  "agent_mail",
  "agent_notes",
  "secrets",
];

const dirs: string[] = [];
const opened: StoreDatabase[] = [];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = makeTempDir();
  dirs.push(dir);
  return dir;
}

async function open(path: string): Promise<StoreDatabase> {
  const store = await openDatabase({ path, log: silentLogger });
  opened.push(store);
  return store;
}

async function tableNames(store: StoreDatabase): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(store.db);
  return result.rows.map((r) => r.name);
}

async function pragma(store: StoreDatabase, name: string): Promise<unknown> {
  const result = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(store.db);
  return Object.values(result.rows[0] ?? {})[0];
}

describe("openDatabase", () => {
  it("creates every table of the spec and only Kysely's bookkeeping besides", async () => {
    const store = await open(join(tempDir(), "gateway.db"));
    const names = await tableNames(store);
    for (const table of TABLES) expect(names).toContain(table);
    const extra = names.filter((n) => !TABLES.includes(n)).sort();
    expect(extra).toEqual(["kysely_migration", "kysely_migration_lock", "sqlite_sequence"]);
  });

  it("does not create the reference tables we leave out", async () => {
    const store = await open(join(tempDir(), "gateway.db"));
    const names = await tableNames(store);
    for (const table of ["messages", "agent_state", "channel_bindings"]) expect(names).not.toContain(table);
  });

  it("is idempotent on reopen and keeps the data", async () => {
    const path = join(tempDir(), "gateway.db");
    const first = await open(path);
    await first.db
      .insertInto("threads")
      .values({ id: "t1", frontend_name: "direct", external_id: "t1", agent_id: "a", created_at: "x", updated_at: "x" })
      .execute();
    await first.close();
    const second = await open(path);
    const migrations = await second.db.selectFrom("kysely_migration" as never).selectAll().execute();
    expect(migrations.map((m) => (m as { name: string }).name)).toEqual(["0001-initial-schema", "0002-ledger-thread-touch", "0003-ops-costs-settings", "0004-pair-tokens"]);
    const threads = await second.db.selectFrom("threads").select("id").execute();
    expect(threads).toEqual([{ id: "t1" }]);
  });

  it("uses WAL with synchronous=NORMAL, foreign keys and a 5 s busy timeout on a file database", async () => {
    const store = await open(join(tempDir(), "gateway.db"));
    expect(await pragma(store, "journal_mode")).toBe("wal");
    expect(await pragma(store, "foreign_keys")).toBe(1);
    expect(await pragma(store, "busy_timeout")).toBe(5000);
    expect(await pragma(store, "synchronous")).toBe(1);
    expect(await pragma(store, "wal_autocheckpoint")).toBe(10000);
    expect(await pragma(store, "journal_size_limit")).toBe(67108864);
  });

  it("opens :memory: with foreign keys on and without WAL", async () => {
    const store = await open(":memory:");
    expect(store.path).toBe(":memory:");
    expect(await pragma(store, "journal_mode")).toBe("memory");
    expect(await pragma(store, "foreign_keys")).toBe(1);
    expect(await tableNames(store)).toContain("ledger_events");
  });

  it("creates missing parent directories with mode 0750", async () => {
    const root = tempDir();
    const path = join(root, "a", "b", "gateway.db");
    await open(path);
    expect(statSync(join(root, "a")).mode & 0o777).toBe(0o750);
    expect(statSync(join(root, "a", "b")).mode & 0o777).toBe(0o750);
  });

  it("creates a new database file with mode 0600, and its WAL files likewise", async () => {
    const path = join(tempDir(), "gateway.db");
    await open(path);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("fails with INTERNAL and logs the failing migration when a migration errors", async () => {
    const dir = tempDir();
    const path = join(dir, "gateway.db");
    const raw = new SQLite(path);
    raw.exec("create table threads (x text)");
    raw.close();
    const log = createMemoryLogger();
    const error = await openDatabase({ path, log }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isGatewayError(error, "INTERNAL")).toBe(true);
    expect((error as Error).message).toMatch(/^migration failed: 0001-initial-schema: .*already exists/);
    const entry = log.entries.find((e) => e.msg === "migration failed");
    expect(entry?.level).toBe("error");
    expect(entry?.attrs.migration).toBe("0001-initial-schema");
  });

  it("applies migrations atomically: one failing partway leaves no table behind, so the next start succeeds", async () => {
    const dir = tempDir();
    const path = join(dir, "gateway.db");
    // `secrets` is the last table 0001 creates: every table before it is created, then the migration fails.
    const raw = new SQLite(path);
    raw.exec("create table secrets (x text)");
    raw.close();
    await expect(openDatabase({ path, log: silentLogger })).rejects.toThrow(/0001-initial-schema: .*secrets.*already exists/);

    const after = new SQLite(path);
    const left = after.prepare("select name from sqlite_master where type = 'table' and name not like 'kysely%'").pluck().all();
    expect(left).toEqual(["secrets"]);
    after.exec("drop table secrets");
    after.close();
    // The start after an interrupted first one (the blocker gone) migrates from scratch instead of failing on
    // "table threads already exists".
    expect(await tableNames(await open(path))).toEqual(expect.arrayContaining(TABLES));
  });

  it("fails with INTERNAL when the path cannot be opened", async () => {
    const dir = tempDir();
    const blocker = join(dir, "not-a-dir");
    mkdirSync(blocker);
    const error = await openDatabase({ path: blocker, log: silentLogger }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isGatewayError(error, "INTERNAL")).toBe(true);
  });

  it("close is safe to call twice and ends the connection", async () => {
    const store = await openDatabase({ path: join(tempDir(), "gateway.db"), log: silentLogger });
    await store.close();
    await store.close();
    await expect(store.db.selectFrom("threads").selectAll().execute()).rejects.toThrow();
  });
});
