// ABOUTME: Migration 0003 (ops.md §4.2, §5, §8): message_usage.cost_micros, the settings table, and the audit_log
// ABOUTME: action CHECK widened by guard_match, budget_refused, budget_warning and set_maintenance (a table rebuild).
import { sql, type Kysely } from "kysely";

/** The audit actions of 0001, frozen here so this migration never changes with later code. */
const ACTIONS_0001 = [
  "approve_principal",
  "revoke_principal",
  "grant_capability",
  "revoke_capability",
  "create_binding",
  "update_binding",
  "delete_binding",
  "create_token",
  "create_principal",
  "delete_principal",
  "approve_tool",
  "answer_question",
  "create_secret",
  "update_secret",
  "delete_secret",
  "approve_link",
  "create_invite",
] as const;

const ACTIONS_0003 = [...ACTIONS_0001, "guard_match", "budget_refused", "budget_warning", "set_maintenance"] as const;

async function rebuildAuditLog(db: Kysely<unknown>, actions: readonly string[]): Promise<void> {
  const list = sql.join(actions.map((a) => sql.lit(a)));
  await sql`
    CREATE TABLE audit_log_next (
      audit_id TEXT PRIMARY KEY NOT NULL,
      actor_principal_id TEXT NOT NULL,
      actor_member_id TEXT,
      action TEXT NOT NULL CHECK ("action" in (${list})),
      target_type TEXT NOT NULL,
      target_id TEXT NOT NULL,
      ts TEXT NOT NULL,
      detail_json TEXT
    )
  `.execute(db);
  await sql`
    INSERT INTO audit_log_next (audit_id, actor_principal_id, actor_member_id, action, target_type, target_id, ts, detail_json)
    SELECT audit_id, actor_principal_id, actor_member_id, action, target_type, target_id, ts, detail_json FROM audit_log
  `.execute(db);
  await sql`DROP TABLE audit_log`.execute(db);
  await sql`ALTER TABLE audit_log_next RENAME TO audit_log`.execute(db);
  await sql`CREATE INDEX audit_log_ts_idx ON audit_log (ts)`.execute(db);
  await sql`CREATE INDEX audit_log_actor_idx ON audit_log (actor_principal_id)`.execute(db);
  await sql`CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id)`.execute(db);
}

/** Adds the priced cost of each usage row, the settings table and the four ops audit actions. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE message_usage ADD COLUMN cost_micros INTEGER NULL CHECK (cost_micros >= 0)`.execute(db);
  await sql`
    CREATE TABLE settings (
      key TEXT PRIMARY KEY NOT NULL,
      value_json TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )
  `.execute(db);
  await rebuildAuditLog(db, ACTIONS_0003);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM audit_log WHERE action IN ('guard_match', 'budget_refused', 'budget_warning', 'set_maintenance')`.execute(db);
  await rebuildAuditLog(db, ACTIONS_0001);
  await sql`DROP TABLE settings`.execute(db);
  await sql`ALTER TABLE message_usage DROP COLUMN cost_micros`.execute(db);
}
