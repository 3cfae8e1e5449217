// ABOUTME: The append-only audit log (store.md §3 audit_log): record one entry, list entries newest first.
// ABOUTME: Build it over the caller's transaction so the entry commits or rolls back with the change it records.
import { randomUUID } from "node:crypto";
import { sql, type Selectable } from "kysely";
import type { AuditAction, AuditLogRow } from "./schema.js";
import type { StoreExecutor } from "./transaction.js";

export type { AuditAction } from "./schema.js";

/** Actor string of the gateway itself (expiry, cancellation, startup work). */
export const SYSTEM_ACTOR = "system";
/** Actor string of the CLIs writing to the database directly. */
export const CLI_ACTOR = "cli";

/** The actor string of a web admin user (web-admin.md §7). */
export function webAdminActor(adminUserId: string): string {
  return `webadmin:${adminUserId}`;
}

/** Who beyond the actor string: a web admin action's detail leads with the admin's username (web-admin.md §7). */
export interface AuditWho {
  username?: string | undefined;
}

/** The detail prefix for `who`: `{username}` when known, else nothing. */
export function whoDetail(who: AuditWho | undefined): { username?: string } {
  return who?.username === undefined ? {} : { username: who.username };
}

/** A stored audit entry. */
export interface AuditEntry {
  id: string;
  /** The actor string: a principal id, `anonymous`, `webadmin:<id>`, `cli` or `system`. */
  actor: string;
  action: AuditAction;
  targetType: string;
  targetId: string;
  ts: string;
  /** Compact JSON of the detail object; undefined when none was given. */
  detailJson: string | undefined;
}

export interface NewAuditEntry {
  actor: string;
  action: AuditAction;
  targetType: string;
  targetId: string;
  /** Stored as compact JSON; never put secret values in it. */
  detail?: object;
  /** Normalised ISO timestamp for ts. */
  now: string;
}

export interface AuditFilter {
  targetType?: string;
  targetId?: string;
  actor?: string;
  action?: AuditAction;
  /** At most this many entries. */
  limit: number;
}

export interface AuditRepository {
  /** Appends one entry and returns it. A failure throws, so the enclosing transaction (and the action) fails. */
  record(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Entries matching every given filter, newest ts first (ties: latest insert first). */
  list(filter: AuditFilter): Promise<AuditEntry[]>;
}

function toEntry(row: Selectable<AuditLogRow>): AuditEntry {
  return {
    id: row.audit_id,
    actor: row.actor_principal_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ts: row.ts,
    detailJson: row.detail_json ?? undefined,
  };
}

/**
 * Creates the audit repository over `db`. Pass the transaction that makes the audited change (see
 * transaction.ts): the spec requires the entry in the same transaction. Methods throw only driver errors (an
 * action outside the CHECK set included), which edges report as INTERNAL.
 */
export function createAuditRepository(db: StoreExecutor): AuditRepository {
  return {
    async record(entry) {
      const row: AuditLogRow = {
        audit_id: randomUUID(),
        actor_principal_id: entry.actor,
        actor_member_id: null,
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId,
        ts: entry.now,
        detail_json: entry.detail === undefined ? null : JSON.stringify(entry.detail),
      };
      await db.insertInto("audit_log").values(row).execute();
      return toEntry(row);
    },

    async list(filter) {
      let query = db.selectFrom("audit_log").selectAll();
      if (filter.targetType !== undefined) query = query.where("target_type", "=", filter.targetType);
      if (filter.targetId !== undefined) query = query.where("target_id", "=", filter.targetId);
      if (filter.actor !== undefined) query = query.where("actor_principal_id", "=", filter.actor);
      if (filter.action !== undefined) query = query.where("action", "=", filter.action);
      const rows = await query.orderBy("ts", "desc").orderBy(sql`rowid`, "desc").limit(filter.limit).execute();
      return rows.map(toEntry);
    },
  };
}
