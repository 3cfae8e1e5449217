// ABOUTME: Device-link codes (store.md §3 link_codes, auth.md §12): create, look up, approve once, clean up.
// ABOUTME: Approval is one guarded update (pending and unexpired); the issued token is scrubbed after pickup.
import { randomUUID } from "node:crypto";
import { sql, type Selectable } from "kysely";
import { GatewayError } from "../lib/gateway-error.js";
import type { LinkCodeRow, LinkCodeStatus } from "./schema.js";
import type { StoreExecutor } from "./transaction.js";

export type { LinkCodeStatus } from "./schema.js";

/** A code lives this long after creation (auth.md §12). */
export const LINK_CODE_TTL_MS = 10 * 60_000;
/** The issued token can be picked up this long after approval (auth.md §12). */
export const LINK_TOKEN_PICKUP_WINDOW_MS = 5 * 60_000;

/** A stored link code. */
export interface LinkCode {
  id: string;
  /** 6 chars, matched case-sensitively. */
  code: string;
  /** 64 lowercase hex chars: the device key's fingerprint. */
  fingerprint: string;
  deviceName: string;
  status: LinkCodeStatus;
  createdAt: string;
  expiresAt: string;
  /** `admin_users.id` of the approver. */
  approvedBy: string | undefined;
  approvedAt: string | undefined;
  /** Undefined until approved, and again if the principal is deleted. */
  principalId: string | undefined;
  /** The issued JWT; undefined before approval and once the pickup window has passed. */
  token: string | undefined;
}

export interface NewLinkCode {
  /** Defaults to a fresh UUIDv4. */
  id?: string;
  code: string;
  /** Lowercased before storing. */
  fingerprint: string;
  deviceName: string;
  /** Normalised ISO timestamp for created_at. */
  now: string;
  /** expires_at = now + ttlMs (LINK_CODE_TTL_MS in production). */
  ttlMs: number;
}

export interface LinkApproval {
  /** `admin_users.id` of the approving web admin user. */
  approvedBy: string;
  principalId: string;
  token: string;
  /** Normalised ISO timestamp. */
  now: string;
}

export interface LinkCodeRepository {
  /** Inserts a pending code; undefined when the code is already taken (the caller draws a new one). */
  insert(input: NewLinkCode): Promise<LinkCode | undefined>;
  findByCode(code: string): Promise<LinkCode | undefined>;
  findById(id: string): Promise<LinkCode | undefined>;
  /**
   * Approves a code that is still pending and whose expires_at is after `now` (one guarded update). Returns the
   * approved code, or undefined when it is unknown, already processed or expired.
   */
  approve(code: string, approval: LinkApproval): Promise<LinkCode | undefined>;
  /** Clears the token of approved codes approved more than `pickupWindowMs` before `now`; returns how many. */
  scrubExpiredTokens(now: string, pickupWindowMs: number): Promise<number>;
  /** Deletes pending codes whose expires_at ≤ now; returns how many. */
  deleteExpiredPending(now: string): Promise<number>;
  /** Pending codes not yet expired at `now`, oldest first. */
  listPending(now: string): Promise<LinkCode[]>;
}

function toLinkCode(row: Selectable<LinkCodeRow>): LinkCode {
  return {
    id: row.id,
    code: row.code,
    fingerprint: row.fingerprint,
    deviceName: row.device_name,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    approvedBy: row.approved_by ?? undefined,
    approvedAt: row.approved_at ?? undefined,
    principalId: row.principal_id ?? undefined,
    token: row.token ?? undefined,
  };
}

/** `iso` shifted by `ms`, in the store's 24-char form. Throws GatewayError INVALID_ARGUMENT for a bad timestamp. */
function shift(iso: string, ms: number): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) throw new GatewayError("INVALID_ARGUMENT", `invalid timestamp: ${iso}`);
  return new Date(time + ms).toISOString();
}

/**
 * Creates the link-code repository over `db` (the database or a transaction, see transaction.ts). Methods
 * taking `now` throw GatewayError INVALID_ARGUMENT when it is not a timestamp (insert, scrubExpiredTokens);
 * other failures (e.g. an unknown approver or principal id violating a foreign key) are driver errors, which
 * edges report as INTERNAL.
 */
export function createLinkCodeRepository(db: StoreExecutor): LinkCodeRepository {
  return {
    async insert(input) {
      const row = await db
        .insertInto("link_codes")
        .values({
          id: input.id ?? randomUUID(),
          code: input.code,
          fingerprint: input.fingerprint.toLowerCase(),
          device_name: input.deviceName,
          status: "pending",
          created_at: input.now,
          expires_at: shift(input.now, input.ttlMs),
          approved_by: null,
          approved_at: null,
          principal_id: null,
          token: null,
        })
        .onConflict((oc) => oc.column("code").doNothing())
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : toLinkCode(row);
    },

    async findByCode(code) {
      const row = await db.selectFrom("link_codes").selectAll().where("code", "=", code).executeTakeFirst();
      return row === undefined ? undefined : toLinkCode(row);
    },

    async findById(id) {
      const row = await db.selectFrom("link_codes").selectAll().where("id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : toLinkCode(row);
    },

    async approve(code, approval) {
      const row = await db
        .updateTable("link_codes")
        .set({
          status: "approved",
          approved_by: approval.approvedBy,
          approved_at: approval.now,
          principal_id: approval.principalId,
          token: approval.token,
        })
        .where("code", "=", code)
        .where("status", "=", "pending")
        .where("expires_at", ">", approval.now)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : toLinkCode(row);
    },

    async scrubExpiredTokens(now, pickupWindowMs) {
      const result = await db
        .updateTable("link_codes")
        .set({ token: null })
        .where("status", "=", "approved")
        .where("token", "is not", null)
        .where("approved_at", "<", shift(now, -pickupWindowMs))
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async deleteExpiredPending(now) {
      const result = await db
        .deleteFrom("link_codes")
        .where("status", "=", "pending")
        .where("expires_at", "<=", now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async listPending(now) {
      const rows = await db
        .selectFrom("link_codes")
        .selectAll()
        .where("status", "=", "pending")
        .where("expires_at", ">", now)
        .orderBy("created_at", "asc")
        .orderBy(sql`rowid`, "asc")
        .execute();
      return rows.map(toLinkCode);
    },
  };
}
