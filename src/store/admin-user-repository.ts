// ABOUTME: Web admin accounts (store.md §3 admin_users): count, look up, and create users, including the first one.
// ABOUTME: Admin users are not principals; a NULL or empty password hash marks a passkey-only account.
import type { Selectable } from "kysely";
import type { AdminUserRow } from "./schema.js";
import type { StoreExecutor } from "./transaction.js";

/** A stored web admin user. */
export interface AdminUser {
  id: string;
  username: string;
  /** Undefined for a passkey-only account (NULL or empty in the row). */
  passwordHash: string | undefined;
  displayName: string;
  createdAt: string;
}

export interface NewAdminUser {
  id: string;
  username: string;
  passwordHash: string | undefined;
  displayName: string;
  now: string;
}

export interface AdminUserRepository {
  /** How many admin users exist. */
  count(): Promise<number>;
  findById(id: string): Promise<AdminUser | undefined>;
  /** Exact (case-sensitive) username match. */
  findByUsername(username: string): Promise<AdminUser | undefined>;
  /** Inserts the user; a taken username throws the driver's UNIQUE error (see sqlite-errors.ts). */
  create(input: NewAdminUser): Promise<AdminUser>;
  /**
   * Inserts the user only while the table is empty, check and insert in one transaction (web-admin.md §3.5).
   * Undefined when a user already exists (a concurrent setup won).
   */
  createFirst(input: NewAdminUser): Promise<AdminUser | undefined>;
}

function toUser(row: Selectable<AdminUserRow>): AdminUser {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash === null || row.password_hash === "" ? undefined : row.password_hash,
    displayName: row.display_name,
    createdAt: row.created_at,
  };
}

/** Builds the repository over `db` (a connection or the caller's transaction). */
export function createAdminUserRepository(db: StoreExecutor): AdminUserRepository {
  const insert = async (executor: StoreExecutor, input: NewAdminUser): Promise<AdminUser> => {
    const row: AdminUserRow = {
      id: input.id,
      username: input.username,
      password_hash: input.passwordHash ?? null,
      display_name: input.displayName,
      created_at: input.now,
    };
    await executor.insertInto("admin_users").values(row).execute();
    return toUser(row);
  };
  return {
    async count() {
      const row = await db.selectFrom("admin_users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async findById(id) {
      const row = await db.selectFrom("admin_users").selectAll().where("id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : toUser(row);
    },
    async findByUsername(username) {
      const row = await db.selectFrom("admin_users").selectAll().where("username", "=", username).executeTakeFirst();
      return row === undefined ? undefined : toUser(row);
    },
    create(input) {
      return insert(db, input);
    },
    async createFirst(input) {
      const run = async (trx: StoreExecutor) => {
        const existing = await trx.selectFrom("admin_users").select("id").limit(1).executeTakeFirst();
        if (existing !== undefined) return undefined;
        return insert(trx, input);
      };
      return db.isTransaction ? run(db) : db.transaction().execute(run);
    },
  };
}
