// ABOUTME: Migration 0004: the pair_tokens table behind QR device pairing, and the audit actions it writes
// ABOUTME: (mint_pair_token, pair_enroll), added by rebuilding audit_log because SQLite cannot alter a CHECK.
import { sql, type Kysely } from "kysely";

/** The audit actions QR pairing records. */
const PAIRING_ACTIONS = ["mint_pair_token", "pair_enroll"] as const;

/**
 * Creates `pair_tokens` (only the lowercase-hex SHA-256 of a token is ever stored, which the CHECK enforces) and
 * widens the `audit_log.action` CHECK by the pairing actions.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await atomically(db, async (trx) => {
    await trx.schema
      .createTable("pair_tokens")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("token_hash", "text", (c) =>
        c.notNull().unique().check(sql`length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'`),
      )
      .addColumn("created_by", "text", (c) => c.notNull().references("admin_users.id").onDelete("cascade"))
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("used_at", "text")
      .addColumn("principal_id", "text", (c) => c.references("principals.principal_id").onDelete("set null"))
      .execute();
    await trx.schema.createIndex("pair_tokens_expires_idx").on("pair_tokens").column("expires_at").execute();
    const actions = await currentAuditActions(trx);
    await rebuildAuditLog(trx, [...actions, ...PAIRING_ACTIONS.filter((a) => !actions.includes(a))]);
  });
}

/** Drops `pair_tokens` and narrows the audit CHECK again (deleting the pairing rows, which it would refuse). */
export async function down(db: Kysely<any>): Promise<void> {
  await atomically(db, async (trx) => {
    await trx.schema.dropTable("pair_tokens").execute();
    const actions = await currentAuditActions(trx);
    await trx.deleteFrom("audit_log").where("action", "in", [...PAIRING_ACTIONS]).execute();
    await rebuildAuditLog(
      trx,
      actions.filter((a) => !(PAIRING_ACTIONS as readonly string[]).includes(a)),
    );
  });
}

/** Runs `fn` in a transaction, or in the caller's when the Migrator already runs every migration in one. */
async function atomically(db: Kysely<any>, fn: (trx: Kysely<any>) => Promise<void>): Promise<void> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute(fn);
}

/**
 * The action list of the live `audit_log` CHECK, read from its stored definition, so this migration keeps
 * whatever earlier migrations allowed instead of restating 0001's list.
 */
async function currentAuditActions(db: Kysely<any>): Promise<string[]> {
  const row = await sql<{ sql: string }>`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'`
    .execute(db)
    .then((r) => r.rows[0]);
  const list = row === undefined ? undefined : /"action"\s+in\s*\(([^)]*)\)/i.exec(row.sql)?.[1];
  if (list === undefined) throw new Error("migration 0004: cannot read the audit_log action CHECK");
  return [...list.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"));
}

/** Recreates `audit_log` (same columns and indexes as 0001) with `actions` as its CHECK set, keeping every row. */
async function rebuildAuditLog(db: Kysely<any>, actions: readonly string[]): Promise<void> {
  await db.schema
    .createTable("audit_log_next")
    .addColumn("audit_id", "text", (c) => c.primaryKey().notNull())
    .addColumn("actor_principal_id", "text", (c) => c.notNull())
    .addColumn("actor_member_id", "text")
    .addColumn("action", "text", (c) =>
      c.notNull().check(sql`${sql.ref("action")} in (${sql.join(actions.map((a) => sql.lit(a)))})`),
    )
    .addColumn("target_type", "text", (c) => c.notNull())
    .addColumn("target_id", "text", (c) => c.notNull())
    .addColumn("ts", "text", (c) => c.notNull())
    .addColumn("detail_json", "text")
    .execute();
  await sql`
    INSERT INTO audit_log_next (audit_id, actor_principal_id, actor_member_id, action, target_type, target_id, ts, detail_json)
    SELECT audit_id, actor_principal_id, actor_member_id, action, target_type, target_id, ts, detail_json FROM audit_log
  `.execute(db);
  await db.schema.dropTable("audit_log").execute();
  await db.schema.alterTable("audit_log_next").renameTo("audit_log").execute();
  await db.schema.createIndex("audit_log_ts_idx").on("audit_log").column("ts").execute();
  await db.schema.createIndex("audit_log_actor_idx").on("audit_log").column("actor_principal_id").execute();
  await db.schema.createIndex("audit_log_target_idx").on("audit_log").columns(["target_type", "target_id"]).execute();
}
