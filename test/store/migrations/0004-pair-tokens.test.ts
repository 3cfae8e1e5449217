// ABOUTME: Tests migration 0004: pair_tokens constraints (hash-only, unique, foreign keys) and the audit_log rebuild
// ABOUTME: that adds mint_pair_token/pair_enroll while keeping earlier rows, indexes and the CHECK on other actions.
import { Kysely, Migrator, NO_MIGRATIONS, SqliteDialect, sql } from "kysely";
import Sqlite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { migrationProvider } from "../../../src/store/migrations/index.js";
import type { Database } from "../../../src/store/schema.js";
import { openTempDatabase, type TempDatabase } from "../temp-database.js";

const T = "2026-01-01T00:00:00.000Z";
const HASH = "0123456789abcdef".repeat(4);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function migrated(): Promise<Kysely<Database>> {
  const temp: TempDatabase = await openTempDatabase();
  cleanups.push(() => temp.cleanup());
  const db = temp.store.db;
  await db.insertInto("admin_users").values({ id: "admin-1", username: "admin", password_hash: null, display_name: "A", created_at: T }).execute();
  return db;
}

const token = (overrides: Record<string, unknown> = {}) =>
  ({ id: "pt-1", token_hash: HASH, created_by: "admin-1", created_at: T, expires_at: T, ...overrides }) as never;

describe("pair_tokens", () => {
  it("stores a 64-char lowercase hex hash only: a plaintext base64url token or uppercase hex is refused", async () => {
    const db = await migrated();
    await db.insertInto("pair_tokens").values(token()).execute();
    const plaintext = Buffer.alloc(32, 7).toString("base64url");
    await expect(db.insertInto("pair_tokens").values(token({ id: "pt-2", token_hash: plaintext })).execute()).rejects.toThrow(/CHECK/);
    await expect(db.insertInto("pair_tokens").values(token({ id: "pt-3", token_hash: HASH.toUpperCase() })).execute()).rejects.toThrow(/CHECK/);
    const row = await db.selectFrom("pair_tokens").selectAll().executeTakeFirstOrThrow();
    expect(row).toEqual({ id: "pt-1", token_hash: HASH, created_by: "admin-1", created_at: T, expires_at: T, used_at: null, principal_id: null });
  });

  it("keeps token_hash unique and created_by pointing at an admin user", async () => {
    const db = await migrated();
    await db.insertInto("pair_tokens").values(token()).execute();
    await expect(db.insertInto("pair_tokens").values(token({ id: "pt-2" })).execute()).rejects.toThrow(/UNIQUE/);
    await expect(
      db.insertInto("pair_tokens").values(token({ id: "pt-3", token_hash: "f".repeat(64), created_by: "nobody" })).execute(),
    ).rejects.toThrow(/FOREIGN KEY/);
  });
});

describe("audit_log after 0004", () => {
  it("accepts mint_pair_token and pair_enroll, still refuses unknown actions, and keeps its indexes", async () => {
    const db = await migrated();
    const audit = { actor_principal_id: "system", target_type: "t", target_id: "t", ts: T };
    await db.insertInto("audit_log").values({ ...audit, audit_id: "a1", action: "mint_pair_token" }).execute();
    await db.insertInto("audit_log").values({ ...audit, audit_id: "a2", action: "pair_enroll" }).execute();
    await db.insertInto("audit_log").values({ ...audit, audit_id: "a3", action: "approve_link" }).execute();
    await expect(db.insertInto("audit_log").values({ ...audit, audit_id: "a4", action: "launch" as never }).execute()).rejects.toThrow(/CHECK/);
    const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'audit_log' and sql is not null`.execute(db);
    expect(indexes.rows.map((r) => r.name).sort()).toEqual(["audit_log_actor_idx", "audit_log_target_idx", "audit_log_ts_idx"]);
  });

  it("keeps the audit rows written before it ran", async () => {
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new Sqlite(":memory:") }) });
    cleanups.push(() => db.destroy());
    const migrator = new Migrator({ db, provider: migrationProvider });
    expect((await migrator.migrateTo("0002-ledger-thread-touch")).error).toBeUndefined();
    await db
      .insertInto("audit_log")
      .values({ audit_id: "old", actor_principal_id: "cli", action: "create_invite", target_type: "invite", target_id: "i", ts: T, detail_json: '{"a":1}' })
      .execute();
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const rows = await db.selectFrom("audit_log").selectAll().execute();
    expect(rows).toEqual([
      { audit_id: "old", actor_principal_id: "cli", actor_member_id: null, action: "create_invite", target_type: "invite", target_id: "i", ts: T, detail_json: '{"a":1}' },
    ]);
  });

  it("down drops pair_tokens and narrows the CHECK again", async () => {
    const db = await migrated();
    await db.insertInto("pair_tokens").values(token()).execute();
    await db.insertInto("audit_log").values({ audit_id: "a1", actor_principal_id: "system", action: "pair_enroll", target_type: "t", target_id: "t", ts: T }).execute();
    const migrator = new Migrator({ db, provider: migrationProvider });
    expect((await migrator.migrateTo("0002-ledger-thread-touch")).error).toBeUndefined();
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name = 'pair_tokens'`.execute(db);
    expect(tables.rows).toEqual([]);
    await expect(
      db.insertInto("audit_log").values({ audit_id: "a2", actor_principal_id: "system", action: "pair_enroll", target_type: "t", target_id: "t", ts: T }).execute(),
    ).rejects.toThrow(/CHECK/);
    expect((await migrator.migrateTo(NO_MIGRATIONS)).error).toBeUndefined();
  });
});
