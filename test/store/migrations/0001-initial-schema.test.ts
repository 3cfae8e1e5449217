// ABOUTME: Tests the constraints of migration 0001: CHECK value sets, NOT NULLs, partial unique indexes, FKs.
// ABOUTME: Writes raw rows through Kysely against a real migrated temp-file database.
import { Migrator, NO_MIGRATIONS, sql, type Kysely } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrationProvider } from "../../../src/store/migrations/index.js";
import type { Database } from "../../../src/store/schema.js";
import { openTempDatabase, type TempDatabase } from "../temp-database.js";

let temp: TempDatabase;
let db: Kysely<Database>;

beforeEach(async () => {
  temp = await openTempDatabase();
  db = temp.store.db;
});

afterEach(async () => {
  await temp.cleanup();
});

const T = "2025-01-01T00:00:00.000Z";
const HEX64 = "a".repeat(64);

function ledgerRow(overrides: Record<string, unknown> = {}) {
  return {
    event_id: `e-${Math.random()}`,
    conversation_key: "agent-1",
    direction: "inbound_to_agent",
    author: "alice",
    timestamp: T,
    type: "message",
    ...overrides,
  } as never;
}

function principalRow(overrides: Record<string, unknown> = {}) {
  return {
    principal_id: `p-${Math.random()}`,
    type: "client",
    pubkey_fingerprint: null,
    display_name: "p",
    status: "approved",
    created_at: T,
    ...overrides,
  } as never;
}

function approvalRow(overrides: Record<string, unknown> = {}) {
  return {
    id: `ap-${Math.random()}`,
    agent_id: "agent-1",
    request_id: "r1",
    tool_id: "tool-1",
    tool_name: "bash",
    input_json: "{}",
    created_at: T,
    expires_at: T,
    ...overrides,
  } as never;
}

describe("ledger_events", () => {
  it("rejects a type outside the CHECK set", async () => {
    await expect(db.insertInto("ledger_events").values(ledgerRow({ type: "text_chunk" })).execute()).rejects.toThrow(
      /CHECK constraint failed/,
    );
    await db.insertInto("ledger_events").values(ledgerRow({ type: "tool_result" })).execute();
  });

  it("rejects a direction outside the CHECK set", async () => {
    await expect(db.insertInto("ledger_events").values(ledgerRow({ direction: "sideways" })).execute()).rejects.toThrow(
      /CHECK constraint failed/,
    );
  });

  it("requires an existing thread when thread_id is set", async () => {
    await expect(db.insertInto("ledger_events").values(ledgerRow({ thread_id: "nope" })).execute()).rejects.toThrow(
      /FOREIGN KEY constraint failed/,
    );
  });

  it("keeps event_id unique and never reuses seq after a delete (AUTOINCREMENT)", async () => {
    await db.insertInto("ledger_events").values(ledgerRow({ event_id: "same" })).execute();
    await expect(db.insertInto("ledger_events").values(ledgerRow({ event_id: "same" })).execute()).rejects.toThrow(
      /UNIQUE constraint failed/,
    );
    await db.insertInto("ledger_events").values(ledgerRow({ event_id: "last" })).execute();
    await db.deleteFrom("ledger_events").where("event_id", "=", "last").execute();
    const row = await db
      .insertInto("ledger_events")
      .values(ledgerRow({ event_id: "next" }))
      .returning("seq")
      .executeTakeFirstOrThrow();
    expect(row.seq).toBe(3);
  });
});

describe("principals", () => {
  it("accepts a 64-char lowercase hex fingerprint and rejects other forms", async () => {
    await db.insertInto("principals").values(principalRow({ pubkey_fingerprint: HEX64 })).execute();
    for (const bad of ["A".repeat(64), "a".repeat(63), "a".repeat(65), `${"a".repeat(63)}g`, ""]) {
      await expect(
        db.insertInto("principals").values(principalRow({ pubkey_fingerprint: bad })).execute(),
      ).rejects.toThrow(/CHECK constraint failed/);
    }
  });

  it("allows many key-less principals but one row per fingerprint", async () => {
    await db.insertInto("principals").values(principalRow()).execute();
    await db.insertInto("principals").values(principalRow()).execute();
    await db.insertInto("principals").values(principalRow({ pubkey_fingerprint: HEX64 })).execute();
    await expect(
      db.insertInto("principals").values(principalRow({ pubkey_fingerprint: HEX64 })).execute(),
    ).rejects.toThrow(/UNIQUE constraint failed/);
  });

  it("rejects bad type and status values and oversized metadata", async () => {
    await expect(db.insertInto("principals").values(principalRow({ type: "human" })).execute()).rejects.toThrow(/CHECK/);
    await expect(db.insertInto("principals").values(principalRow({ status: "away" })).execute()).rejects.toThrow(/CHECK/);
    await expect(
      db.insertInto("principals").values(principalRow({ metadata_json: "x".repeat(65537) })).execute(),
    ).rejects.toThrow(/CHECK/);
    await db.insertInto("principals").values(principalRow({ metadata_json: "x".repeat(65536) })).execute();
  });
});

describe("tool_approvals", () => {
  it("allows one pending row per (agent_id, request_id, tool_id) but any number of resolved ones", async () => {
    await db.insertInto("tool_approvals").values(approvalRow()).execute();
    await expect(db.insertInto("tool_approvals").values(approvalRow()).execute()).rejects.toThrow(/UNIQUE/);
    await db.insertInto("tool_approvals").values(approvalRow({ status: "denied" })).execute();
    await db.insertInto("tool_approvals").values(approvalRow({ status: "denied" })).execute();
  });

  it("defaults status to pending and approve_all to 0, and checks both", async () => {
    await db.insertInto("tool_approvals").values(approvalRow({ id: "a1" })).execute();
    const row = await db.selectFrom("tool_approvals").select(["status", "approve_all"]).where("id", "=", "a1").executeTakeFirst();
    expect(row).toEqual({ status: "pending", approve_all: 0 });
    await expect(db.insertInto("tool_approvals").values(approvalRow({ status: "maybe" })).execute()).rejects.toThrow(/CHECK/);
    await expect(
      db.insertInto("tool_approvals").values(approvalRow({ status: "approved", approve_all: 2 })).execute(),
    ).rejects.toThrow(/CHECK/);
  });
});

describe("other CHECKs and keys", () => {
  it("rejects negative token counts", async () => {
    await db
      .insertInto("threads")
      .values({ id: "t1", frontend_name: "direct", external_id: "t1", agent_id: "a", created_at: T, updated_at: T })
      .execute();
    const usage = { id: "u1", thread_id: "t1", request_id: "r", agent_id: "a", created_at: T };
    await expect(db.insertInto("message_usage").values({ ...usage, thinking_tokens: -1 }).execute()).rejects.toThrow(/CHECK/);
    await db.insertInto("message_usage").values(usage).execute();
    const row = await db.selectFrom("message_usage").selectAll().executeTakeFirstOrThrow();
    expect(row.input_tokens + row.output_tokens + row.cache_read_tokens + row.cache_write_tokens + row.thinking_tokens).toBe(0);
  });

  it("bounds user_questions.timeout_seconds to 1..300", async () => {
    const q = { agent_id: "a", question: "?", options_json: "[]", created_at: T, expires_at: T };
    await expect(db.insertInto("user_questions").values({ ...q, question_id: "q0", timeout_seconds: 0 }).execute()).rejects.toThrow(/CHECK/);
    await expect(db.insertInto("user_questions").values({ ...q, question_id: "q1", timeout_seconds: 301 }).execute()).rejects.toThrow(/CHECK/);
    await db.insertInto("user_questions").values({ ...q, question_id: "q2", timeout_seconds: 300 }).execute();
  });

  it("rejects unknown audit actions and role names", async () => {
    const audit = { audit_id: "x", actor_principal_id: "system", target_type: "t", target_id: "t", ts: T };
    await expect(db.insertInto("audit_log").values({ ...audit, action: "launch" as never }).execute()).rejects.toThrow(/CHECK/);
    await db.insertInto("audit_log").values({ ...audit, action: "create_invite" }).execute();
    await expect(
      db.insertInto("roles").values({ subject_type: "principal", subject_id: "p", role: "king" as never, created_at: T }).execute(),
    ).rejects.toThrow(/CHECK/);
  });

  it("keeps global secrets unique by key and per-agent secrets unique by (key, agent_id)", async () => {
    const s = { value: "v", created_at: T, updated_at: T };
    await db.insertInto("secrets").values({ ...s, id: "s1", key: "K", agent_id: null }).execute();
    await expect(db.insertInto("secrets").values({ ...s, id: "s2", key: "K", agent_id: null }).execute()).rejects.toThrow(/UNIQUE/);
    await db.insertInto("secrets").values({ ...s, id: "s3", key: "K", agent_id: "a" }).execute();
    await db.insertInto("secrets").values({ ...s, id: "s4", key: "K", agent_id: "b" }).execute();
    await expect(db.insertInto("secrets").values({ ...s, id: "s5", key: "K", agent_id: "a" }).execute()).rejects.toThrow(/UNIQUE/);
  });

  it("sets link_codes.principal_id to NULL when the principal is deleted, and cascades admin sessions", async () => {
    await db.insertInto("principals").values(principalRow({ principal_id: "p1" })).execute();
    await db
      .insertInto("link_codes")
      .values({ id: "l1", code: "ABC123", fingerprint: HEX64, device_name: "d", created_at: T, expires_at: T, principal_id: "p1" })
      .execute();
    await db.deleteFrom("principals").where("principal_id", "=", "p1").execute();
    const link = await db.selectFrom("link_codes").select(["principal_id", "status"]).executeTakeFirstOrThrow();
    expect(link).toEqual({ principal_id: null, status: "pending" });

    await db.insertInto("admin_users").values({ id: "u1", username: "root", display_name: "Root", created_at: T }).execute();
    await db.insertInto("admin_sessions").values({ id: HEX64, user_id: "u1", created_at: T, expires_at: T }).execute();
    await db.deleteFrom("admin_users").where("id", "=", "u1").execute();
    expect(await db.selectFrom("admin_sessions").selectAll().execute()).toEqual([]);
  });

  it("defaults bindings.working_dir to '' and keeps (frontend, channel_id) unique", async () => {
    const b = { frontend: "slack", channel_id: "c", agent_id: "p", created_at: T };
    await db.insertInto("bindings").values({ ...b, binding_id: "b1" }).execute();
    await expect(db.insertInto("bindings").values({ ...b, binding_id: "b2" }).execute()).rejects.toThrow(/UNIQUE/);
    const row = await db.selectFrom("bindings").select("working_dir").executeTakeFirstOrThrow();
    expect(row.working_dir).toBe("");
  });
});

describe("down", () => {
  it("drops every table it created", async () => {
    const migrator = new Migrator({ db, provider: migrationProvider });
    const { error } = await migrator.migrateTo(NO_MIGRATIONS);
    expect(error).toBeUndefined();
    const result = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db);
    expect(result.rows.map((r) => r.name).sort()).toEqual(["kysely_migration", "kysely_migration_lock", "sqlite_sequence"]);
  });
});
