// ABOUTME: Web admin login sessions (store.md §3 admin_sessions): create, look up unexpired, delete, purge.
// ABOUTME: The id is the cookie value: 32 random bytes as 64 lowercase hex characters.
import { randomBytes } from "node:crypto";
import type { StoreExecutor } from "./transaction.js";
import type { AdminUser } from "./admin-user-repository.js";

/** A live session with its user. */
export interface AdminSession {
  id: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
  user: AdminUser;
}

export interface AdminSessionRepository {
  /** Inserts a fresh session for `userId`; returns its id. */
  create(input: { userId: string; now: string; expiresAt: string }): Promise<string>;
  /** The session with this id whose `expires_at` is after `now`, joined with its user; undefined otherwise. */
  findValid(id: string, now: string): Promise<AdminSession | undefined>;
  delete(id: string): Promise<void>;
  /** Deletes every session expired at `now`; returns how many. */
  purgeExpired(now: string): Promise<number>;
}

/** Builds the repository over `db`. */
export function createAdminSessionRepository(db: StoreExecutor): AdminSessionRepository {
  return {
    async create({ userId, now, expiresAt }) {
      const id = randomBytes(32).toString("hex");
      await db.insertInto("admin_sessions").values({ id, user_id: userId, created_at: now, expires_at: expiresAt }).execute();
      return id;
    },
    async findValid(id, now) {
      const row = await db
        .selectFrom("admin_sessions as s")
        .innerJoin("admin_users as u", "u.id", "s.user_id")
        .select([
          "s.id as id",
          "s.user_id as user_id",
          "s.created_at as created_at",
          "s.expires_at as expires_at",
          "u.username as username",
          "u.password_hash as password_hash",
          "u.display_name as display_name",
          "u.created_at as user_created_at",
        ])
        .where("s.id", "=", id)
        .where("s.expires_at", ">", now)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return {
        id: row.id,
        userId: row.user_id,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        user: {
          id: row.user_id,
          username: row.username,
          passwordHash: row.password_hash === null || row.password_hash === "" ? undefined : row.password_hash,
          displayName: row.display_name,
          createdAt: row.user_created_at,
        },
      };
    },
    async delete(id) {
      await db.deleteFrom("admin_sessions").where("id", "=", id).execute();
    },
    async purgeExpired(now) {
      const result = await db.deleteFrom("admin_sessions").where("expires_at", "<=", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
