// ABOUTME: Tests the role repository against a real migrated database: sorted reads, idempotent grants,
// ABOUTME: revocation, replacing a role set atomically, and rejection of names outside the CHECK set.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { createRoleRepository, isRoleName, type RoleName, type RoleRepository } from "../../src/store/role-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let roles: RoleRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  roles = createRoleRepository(temp.store.db);
});

afterEach(async () => {
  await temp.cleanup();
});

const T1 = "2025-03-01T10:00:00.000Z";
const T2 = "2025-03-01T11:00:00.000Z";

describe("role repository", () => {
  it("returns roles sorted, and [] for a principal without any", async () => {
    await roles.grant("p1", "owner", T1);
    await roles.grant("p1", "admin", T1);
    await roles.grant("p1", "member", T1);
    expect(await roles.rolesOf("p1")).toEqual(["admin", "member", "owner"]);
    expect(await roles.rolesOf("nobody")).toEqual([]);
  });

  it("granting a held role is a no-op that keeps the first created_at", async () => {
    expect(await roles.grant("p1", "member", T1)).toBe(true);
    expect(await roles.grant("p1", "member", T2)).toBe(false);
    const rows = await temp.store.db.selectFrom("roles").selectAll().execute();
    expect(rows).toEqual([{ subject_type: "principal", subject_id: "p1", role: "member", created_at: T1 }]);
  });

  it("revokes one role and reports whether it was held", async () => {
    await roles.grant("p1", "admin", T1);
    await roles.grant("p1", "member", T1);
    expect(await roles.revoke("p1", "admin")).toBe(true);
    expect(await roles.revoke("p1", "admin")).toBe(false);
    expect(await roles.rolesOf("p1")).toEqual(["member"]);
  });

  it("setRoles replaces the set, ignores duplicates and keeps retained rows", async () => {
    await roles.grant("p1", "admin", T1);
    await roles.grant("p1", "leader", T1);
    await roles.grant("p2", "admin", T1);
    expect(await roles.setRoles("p1", ["member", "admin", "member"], T2)).toEqual(["admin", "member"]);
    const admin = await temp.store.db
      .selectFrom("roles")
      .select("created_at")
      .where("subject_id", "=", "p1")
      .where("role", "=", "admin")
      .executeTakeFirstOrThrow();
    expect(admin.created_at).toBe(T1);
    expect(await roles.setRoles("p1", [], T2)).toEqual([]);
    expect(await roles.rolesOf("p2")).toEqual(["admin"]);
  });

  it("rejects an unknown role name before writing anything", async () => {
    const err = await roles.setRoles("p1", ["member", "superuser" as RoleName], T1).catch((e: unknown) => e);
    expect(isGatewayError(err, "INVALID_ARGUMENT")).toBe(true);
    expect((err as Error).message).toBe("invalid role: superuser");
    await expect(roles.grant("p1", "root" as RoleName, T1)).rejects.toThrow("invalid role: root");
    expect(await roles.rolesOf("p1")).toEqual([]);
    expect(isRoleName("leader")).toBe(true);
    expect(isRoleName("root")).toBe(false);
  });

  it("reads the roles of several principals at once", async () => {
    await roles.grant("p1", "member", T1);
    await roles.grant("p1", "admin", T1);
    await roles.grant("p2", "owner", T1);
    const many = await roles.rolesOfMany(["p1", "p2", "p3"]);
    expect(Object.fromEntries(many)).toEqual({ p1: ["admin", "member"], p2: ["owner"], p3: [] });
    expect((await roles.rolesOfMany([])).size).toBe(0);
  });

  it("revokeAll removes every role of one principal only", async () => {
    await roles.grant("p1", "member", T1);
    await roles.grant("p1", "admin", T1);
    await roles.grant("p2", "member", T1);
    expect(await roles.revokeAll("p1")).toBe(2);
    expect(await roles.rolesOf("p1")).toEqual([]);
    expect(await roles.rolesOf("p2")).toEqual(["member"]);
  });
});
