// ABOUTME: Role grants of principals (store.md §3 roles, auth.md §3): read, grant, revoke and replace.
// ABOUTME: Grants are insert-or-ignore, so granting a held role is a no-op; only `principal` subjects exist in v1.
import { GatewayError } from "../lib/gateway-error.js";
import type { RoleName } from "./schema.js";
import { inTransaction, type StoreExecutor } from "./transaction.js";

export type { RoleName } from "./schema.js";

/** Every role name the roles table accepts, sorted. */
export const ROLE_NAMES: readonly RoleName[] = Object.freeze(["admin", "leader", "member", "owner"]);

/** True when `value` is one of `owner`, `admin`, `member`, `leader`. */
export function isRoleName(value: string): value is RoleName {
  return (ROLE_NAMES as readonly string[]).includes(value);
}

export interface RoleRepository {
  /** The principal's role names, sorted alphabetically; `[]` when it has none (or does not exist). */
  rolesOf(principalId: string): Promise<RoleName[]>;
  /** The roles of several principals at once (e.g. a principal listing); ids without roles map to `[]`. */
  rolesOfMany(principalIds: readonly string[]): Promise<Map<string, RoleName[]>>;
  /** Grants `role` (insert-or-ignore); true when a row was added, false when it was already held. */
  grant(principalId: string, role: RoleName, now: string): Promise<boolean>;
  /** Removes `role`; true when it was held. */
  revoke(principalId: string, role: RoleName): Promise<boolean>;
  /**
   * Makes the principal hold exactly `roles` (duplicates ignored) in one transaction; rows for roles it keeps
   * retain their created_at. Returns the resulting sorted roles.
   */
  setRoles(principalId: string, roles: readonly RoleName[], now: string): Promise<RoleName[]>;
  /** Deletes every role row of the principal; returns how many. */
  revokeAll(principalId: string): Promise<number>;
}

function assertRole(role: string): asserts role is RoleName {
  if (!isRoleName(role)) throw new GatewayError("INVALID_ARGUMENT", `invalid role: ${role}`);
}

/**
 * Creates the role repository over `db` (the database or a transaction, see transaction.ts). `grant` and
 * `setRoles` throw GatewayError INVALID_ARGUMENT `invalid role: <name>` for a name outside the CHECK set; other
 * failures are driver errors, which edges report as INTERNAL.
 */
export function createRoleRepository(db: StoreExecutor): RoleRepository {
  const principalRoles = (executor: StoreExecutor, principalId: string) =>
    executor.selectFrom("roles").where("subject_type", "=", "principal").where("subject_id", "=", principalId);

  const rolesOf = async (executor: StoreExecutor, principalId: string): Promise<RoleName[]> => {
    const rows = await principalRoles(executor, principalId).select("role").orderBy("role", "asc").execute();
    return rows.map((row) => row.role);
  };

  const grant = async (executor: StoreExecutor, principalId: string, role: RoleName, now: string): Promise<boolean> => {
    assertRole(role);
    const result = await executor
      .insertInto("roles")
      .values({ subject_type: "principal", subject_id: principalId, role, created_at: now })
      .onConflict((oc) => oc.columns(["subject_type", "subject_id", "role"]).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  };

  return {
    rolesOf: (principalId) => rolesOf(db, principalId),

    async rolesOfMany(principalIds) {
      const result = new Map<string, RoleName[]>(principalIds.map((id) => [id, []]));
      if (principalIds.length === 0) return result;
      const rows = await db
        .selectFrom("roles")
        .select(["subject_id", "role"])
        .where("subject_type", "=", "principal")
        .where("subject_id", "in", [...new Set(principalIds)])
        .orderBy("role", "asc")
        .execute();
      for (const row of rows) result.get(row.subject_id)?.push(row.role);
      return result;
    },

    grant: (principalId, role, now) => grant(db, principalId, role, now),

    async revoke(principalId, role) {
      const result = await db
        .deleteFrom("roles")
        .where("subject_type", "=", "principal")
        .where("subject_id", "=", principalId)
        .where("role", "=", role)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async setRoles(principalId, roles, now) {
      const wanted = [...new Set(roles)];
      for (const role of wanted) assertRole(role);
      return inTransaction(db, async (trx) => {
        let removal = trx.deleteFrom("roles").where("subject_type", "=", "principal").where("subject_id", "=", principalId);
        if (wanted.length > 0) removal = removal.where("role", "not in", wanted);
        await removal.execute();
        for (const role of wanted) await grant(trx, principalId, role, now);
        return rolesOf(trx, principalId);
      });
    },

    async revokeAll(principalId) {
      const result = await db
        .deleteFrom("roles")
        .where("subject_type", "=", "principal")
        .where("subject_id", "=", principalId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
