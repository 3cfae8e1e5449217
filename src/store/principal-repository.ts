// ABOUTME: Principals (store.md §3, auth.md §2): lookups, creation, deletion with roles, status and presence.
// ABOUTME: Presence never overwrites pending/revoked and never touches `anonymous`, whose row is ensured at startup.
import { randomBytes } from "node:crypto";
import { sql, type Selectable } from "kysely";
import { GatewayError } from "../lib/gateway-error.js";
import { createRoleRepository } from "./role-repository.js";
import type { PrincipalRow, PrincipalStatus, PrincipalType } from "./schema.js";
import { isUniqueViolation } from "./sqlite-errors.js";
import { inTransaction, type StoreExecutor } from "./transaction.js";

export type { PrincipalStatus, PrincipalType } from "./schema.js";

/** The reserved id of the no-auth caller's principal (auth.md §11). */
export const ANONYMOUS_PRINCIPAL_ID = "anonymous";

/** Largest metadata_json accepted, in UTF-8 bytes (the column CHECK is length ≤ 65536). */
export const MAX_METADATA_BYTES = 65536;

/** A stored principal. */
export interface Principal {
  id: string;
  type: PrincipalType;
  displayName: string;
  status: PrincipalStatus;
  /** 64 lowercase hex chars (SHA-256 of the SSH key blob); undefined for key-less principals. */
  pubkeyFingerprint: string | undefined;
  createdAt: string;
  lastSeen: string | undefined;
  metadataJson: string | undefined;
}

export interface NewPrincipal {
  /** A UUIDv4, or `newAdminPrincipalId(...)` for `CreatePrincipal`; `anonymous` is reserved. */
  id: string;
  type: PrincipalType;
  displayName: string;
  status: PrincipalStatus;
  /** Lowercased before storing; must then be 64 hex chars. */
  pubkeyFingerprint?: string | undefined;
  metadataJson?: string | undefined;
  /** Normalised ISO timestamp for created_at. */
  now: string;
}

export interface PrincipalFilter {
  /** Exact match; an unknown value matches nothing. */
  type?: string;
  /** Exact match; an unknown value matches nothing. */
  status?: string;
  limit?: number;
}

export interface PrincipalRepository {
  findById(id: string): Promise<Principal | undefined>;
  /** The principal holding this fingerprint (matched lowercased), of any type. */
  findByFingerprint(fingerprint: string): Promise<Principal | undefined>;
  /** Matching principals, `anonymous` included, newest created_at first (ties: latest insert first). */
  list(filter?: PrincipalFilter): Promise<Principal[]>;
  /**
   * Inserts the principal; `undefined` when another principal already holds the fingerprint. Throws GatewayError
   * INVALID_ARGUMENT for the reserved id, a malformed fingerprint or oversized metadata, and ALREADY_EXISTS
   * `principal <id> already exists` when the id is taken.
   */
  insert(principal: NewPrincipal): Promise<Principal | undefined>;
  /**
   * Deletes the principal and its `principal` role rows in one transaction; false when it does not exist.
   * Throws GatewayError FAILED_PRECONDITION `cannot delete the anonymous principal`.
   */
  delete(id: string): Promise<boolean>;
  /** Sets the status (admin approve/revoke); the updated principal, or undefined when unknown. */
  setStatus(id: string, status: PrincipalStatus): Promise<Principal | undefined>;
  /** How many principals exist besides `anonymous` (what `bootstrap` counts). */
  countExcludingAnonymous(): Promise<number>;
  /** First live stream: approved/offline/online → online, last_seen = now. False when nothing changed. */
  markOnline(id: string, now: string): Promise<boolean>;
  /** Last stream ended: online → offline, last_seen = now. False when nothing changed. */
  markOffline(id: string, now: string): Promise<boolean>;
  /** Refreshes last_seen (the caller throttles to once per 60 s); status is untouched. */
  touch(id: string, now: string): Promise<boolean>;
  /** Startup: every online principal becomes offline (no stream survives a restart). Returns how many. */
  resetOnlineToOffline(): Promise<number>;
  /**
   * Startup step 2 (store.md §9). No-auth (`authOn` false): the `anonymous` row is created or reset to type
   * client, display name `anonymous`, no key, status approved, and granted role `admin`; returns it. Auth on:
   * the row, if present, becomes `revoked`; returns it, or undefined when absent.
   */
  ensureAnonymous(authOn: boolean, now: string): Promise<Principal | undefined>;
}

const FINGERPRINT_RE = /^[0-9a-f]{64}$/;
const PRESENCE_SOURCES: readonly PrincipalStatus[] = ["approved", "offline", "online"];

/**
 * A `CreatePrincipal` id: `<type>-<base36 Unix ms>-<4 lowercase hex random>`, e.g. `agent-m5x2k3a1-0f3c`
 * (auth.md §2).
 */
export function newAdminPrincipalId(type: PrincipalType, now: Date): string {
  return `${type}-${now.getTime().toString(36)}-${randomBytes(2).toString("hex")}`;
}

function toPrincipal(row: Selectable<PrincipalRow>): Principal {
  return {
    id: row.principal_id,
    type: row.type,
    displayName: row.display_name,
    status: row.status,
    pubkeyFingerprint: row.pubkey_fingerprint ?? undefined,
    createdAt: row.created_at,
    lastSeen: row.last_seen ?? undefined,
    metadataJson: row.metadata_json ?? undefined,
  };
}

function normaliseFingerprint(fingerprint: string | undefined): string | null {
  if (fingerprint === undefined) return null;
  const lower = fingerprint.toLowerCase();
  if (!FINGERPRINT_RE.test(lower)) {
    throw new GatewayError("INVALID_ARGUMENT", "invalid fingerprint: must be 64 hex characters (SHA256)");
  }
  return lower;
}

/**
 * Creates the principal repository over `db` (the database or a transaction, see transaction.ts). Methods
 * throw the GatewayErrors named on each; anything else is a driver error, which edges report as INTERNAL.
 */
export function createPrincipalRepository(db: StoreExecutor): PrincipalRepository {
  const findById = async (executor: StoreExecutor, id: string) => {
    const row = await executor.selectFrom("principals").selectAll().where("principal_id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : toPrincipal(row);
  };

  return {
    findById: (id) => findById(db, id),

    async findByFingerprint(fingerprint) {
      const row = await db
        .selectFrom("principals")
        .selectAll()
        .where("pubkey_fingerprint", "=", fingerprint.toLowerCase())
        .executeTakeFirst();
      return row === undefined ? undefined : toPrincipal(row);
    },

    async list(filter = {}) {
      let query = db.selectFrom("principals").selectAll();
      if (filter.type !== undefined) query = query.where("type", "=", filter.type as PrincipalType);
      if (filter.status !== undefined) query = query.where("status", "=", filter.status as PrincipalStatus);
      query = query.orderBy("created_at", "desc").orderBy(sql`rowid`, "desc");
      if (filter.limit !== undefined) query = query.limit(filter.limit);
      return (await query.execute()).map(toPrincipal);
    },

    async insert(principal) {
      if (principal.id === ANONYMOUS_PRINCIPAL_ID) {
        throw new GatewayError("INVALID_ARGUMENT", `principal id ${ANONYMOUS_PRINCIPAL_ID} is reserved`);
      }
      const metadata = principal.metadataJson ?? null;
      if (metadata !== null && Buffer.byteLength(metadata, "utf8") > MAX_METADATA_BYTES) {
        throw new GatewayError("INVALID_ARGUMENT", "metadata exceeds maximum size (64KB)");
      }
      const row: PrincipalRow = {
        principal_id: principal.id,
        type: principal.type,
        pubkey_fingerprint: normaliseFingerprint(principal.pubkeyFingerprint),
        display_name: principal.displayName,
        status: principal.status,
        created_at: principal.now,
        last_seen: null,
        metadata_json: metadata,
      };
      let inserted: Selectable<PrincipalRow> | undefined;
      try {
        inserted = await db
          .insertInto("principals")
          .values(row)
          .onConflict((oc) => oc.column("pubkey_fingerprint").where(sql<boolean>`pubkey_fingerprint is not null`).doNothing())
          .returningAll()
          .executeTakeFirst();
      } catch (err) {
        // The fingerprint conflict is absorbed above, so a uniqueness failure here is the primary key.
        if (isUniqueViolation(err)) {
          throw new GatewayError("ALREADY_EXISTS", `principal ${principal.id} already exists`, { cause: err });
        }
        throw err;
      }
      return inserted === undefined ? undefined : toPrincipal(inserted);
    },

    async delete(id) {
      if (id === ANONYMOUS_PRINCIPAL_ID) {
        throw new GatewayError("FAILED_PRECONDITION", "cannot delete the anonymous principal");
      }
      return inTransaction(db, async (trx) => {
        const result = await trx.deleteFrom("principals").where("principal_id", "=", id).executeTakeFirst();
        if (Number(result.numDeletedRows) === 0) return false;
        await createRoleRepository(trx).revokeAll(id);
        return true;
      });
    },

    async setStatus(id, status) {
      const row = await db
        .updateTable("principals")
        .set({ status })
        .where("principal_id", "=", id)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : toPrincipal(row);
    },

    async countExcludingAnonymous() {
      const row = await db
        .selectFrom("principals")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("principal_id", "!=", ANONYMOUS_PRINCIPAL_ID)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async markOnline(id, now) {
      const result = await db
        .updateTable("principals")
        .set({ status: "online", last_seen: now })
        .where("principal_id", "=", id)
        .where("principal_id", "!=", ANONYMOUS_PRINCIPAL_ID)
        .where("status", "in", PRESENCE_SOURCES)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async markOffline(id, now) {
      const result = await db
        .updateTable("principals")
        .set({ status: "offline", last_seen: now })
        .where("principal_id", "=", id)
        .where("principal_id", "!=", ANONYMOUS_PRINCIPAL_ID)
        .where("status", "=", "online")
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async touch(id, now) {
      const result = await db
        .updateTable("principals")
        .set({ last_seen: now })
        .where("principal_id", "=", id)
        .where("principal_id", "!=", ANONYMOUS_PRINCIPAL_ID)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async resetOnlineToOffline() {
      const result = await db.updateTable("principals").set({ status: "offline" }).where("status", "=", "online").executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async ensureAnonymous(authOn, now) {
      if (authOn) {
        const row = await db
          .updateTable("principals")
          .set({ status: "revoked" })
          .where("principal_id", "=", ANONYMOUS_PRINCIPAL_ID)
          .returningAll()
          .executeTakeFirst();
        return row === undefined ? undefined : toPrincipal(row);
      }
      return inTransaction(db, async (trx) => {
        const fields = {
          type: "client",
          display_name: ANONYMOUS_PRINCIPAL_ID,
          pubkey_fingerprint: null,
          status: "approved",
        } as const;
        await trx
          .insertInto("principals")
          .values({ principal_id: ANONYMOUS_PRINCIPAL_ID, ...fields, created_at: now, last_seen: null, metadata_json: null })
          .onConflict((oc) => oc.column("principal_id").doUpdateSet(fields))
          .execute();
        await createRoleRepository(trx).grant(ANONYMOUS_PRINCIPAL_ID, "admin", now);
        return findById(trx, ANONYMOUS_PRINCIPAL_ID);
      });
    },
  };
}
