// ABOUTME: One-time web admin invites (store.md §3 admin_invites): create one, look one up by its token.
// ABOUTME: The id is the secret in the invite link; it is 64 lowercase hex characters from 32 random bytes.
import { randomBytes } from "node:crypto";
import type { StoreExecutor } from "./transaction.js";

/** A stored invite. */
export interface AdminInvite {
  id: string;
  createdBy: string | undefined;
  createdAt: string;
  expiresAt: string;
  usedAt: string | undefined;
  usedBy: string | undefined;
}

export interface InviteRepository {
  /** Inserts a fresh invite with a random id; `createdBy` is an admin_users id, undefined for the CLI. */
  create(input: { createdBy?: string; now: string; expiresAt: string }): Promise<AdminInvite>;
  /** The invite with this id, or undefined. */
  find(id: string): Promise<AdminInvite | undefined>;
  /**
   * Marks the invite used by `usedBy` if it is still unused and unexpired at `now` (one statement, so two
   * concurrent signups cannot both win). False when nothing was marked.
   */
  markUsed(id: string, usedBy: string, now: string): Promise<boolean>;
}

/** Builds the repository over `db` (a connection or the caller's transaction). */
export function createInviteRepository(db: StoreExecutor): InviteRepository {
  return {
    async create({ createdBy, now, expiresAt }) {
      const id = randomBytes(32).toString("hex");
      await db.insertInto("admin_invites").values({ id, created_by: createdBy ?? null, created_at: now, expires_at: expiresAt, used_at: null, used_by: null }).execute();
      return { id, createdBy, createdAt: now, expiresAt, usedAt: undefined, usedBy: undefined };
    },
    async find(id) {
      const row = await db.selectFrom("admin_invites").selectAll().where("id", "=", id).executeTakeFirst();
      if (row === undefined) return undefined;
      return {
        id: row.id,
        createdBy: row.created_by ?? undefined,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        usedAt: row.used_at ?? undefined,
        usedBy: row.used_by ?? undefined,
      };
    },
    async markUsed(id, usedBy, now) {
      const result = await db
        .updateTable("admin_invites")
        .set({ used_at: now, used_by: usedBy })
        .where("id", "=", id)
        .where("used_at", "is", null)
        .where("expires_at", ">", now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
