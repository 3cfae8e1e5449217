// ABOUTME: Tests the identity service over a real migrated SQLite file: audits in the same transaction,
// ABOUTME: approve/revoke semantics, removal announcements, GetMe failure text and the no-auth token refusal.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { createIdentityService, type IdentityService, type PrincipalRemoval } from "../../src/auth/identity-service.js";
import { createJwtService } from "../../src/auth/jwt.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import { createManualClock, openTempDatabase, type TempDatabase } from "../store/temp-database.js";

const SECRET = "0123456789abcdef0123456789abcdef";
let temp: TempDatabase;
let service: IdentityService;
let removals: PrincipalRemoval[];
const clock = createManualClock("2025-03-01T12:00:00.000Z");
const log = createMemoryLogger();

beforeEach(async () => {
  temp = await openTempDatabase();
  service = createIdentityService({ db: temp.store.db, jwt: createJwtService({ secret: SECRET, clock }), clock, log });
  removals = [];
  service.onPrincipalRemoved((removal) => removals.push(removal));
});

afterEach(async () => {
  await temp.cleanup();
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return { code: (err as GatewayError).code, message: (err as GatewayError).message };
  }
  throw new Error("expected a failure");
}

/** Makes every audit insert fail, to prove the audited change rolls back with it. */
async function breakAudit(): Promise<void> {
  await sql`CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit down'); END`.execute(temp.store.db);
}

describe("audits share the transaction of the change", () => {
  it("createPrincipal leaves nothing behind and answers INTERNAL 'failed to create principal' when the audit fails", async () => {
    await breakAudit();
    expect(await failure(service.createPrincipal("actor", { type: "client", displayName: "c", roles: ["admin"] }))).toEqual({
      code: "INTERNAL",
      message: "failed to create principal",
    });
    expect(await createPrincipalRepository(temp.store.db).countExcludingAnonymous()).toBe(0);
    expect(log.entries.some((e) => e.level === "error" && e.msg === "failed to create principal")).toBe(true);
  });

  it("registerPrincipal and deletePrincipal roll back with a failing audit", async () => {
    const created = await service.createPrincipal("actor", { type: "client", displayName: "keep", roles: ["member"] });
    await breakAudit();
    expect(await failure(service.registerPrincipal({ id: "p", roles: ["member"] }, "agent", { displayName: "a", fingerprint: "a".repeat(64) }))).toEqual({
      code: "INTERNAL",
      message: "failed to create principal",
    });
    expect(await failure(service.deletePrincipal("actor", created.id))).toEqual({ code: "INTERNAL", message: "failed to delete principal" });
    expect(await createPrincipalRepository(temp.store.db).findById(created.id)).toBeDefined();
    expect(await createRoleRepository(temp.store.db).rolesOf(created.id)).toEqual(["member"]);
    expect(await createPrincipalRepository(temp.store.db).countExcludingAnonymous()).toBe(1);
    expect(removals).toEqual([]);
  });
});

describe("approve and revoke", () => {
  it("revoke sets revoked, audits revoke_principal once and announces it; approve restores approved", async () => {
    const { id } = await service.createPrincipal("actor", { type: "client", displayName: "c", roles: [] });
    const revoked = await service.revokePrincipal("webadmin:1", id);
    expect(revoked).toMatchObject({ changed: true, principal: { status: "revoked" } });
    expect(removals).toEqual([{ principalId: id, reason: "revoked" }]);
    expect((await service.revokePrincipal("webadmin:1", id)).changed).toBe(false);
    expect(removals).toHaveLength(1);
    const approved = await service.approvePrincipal("webadmin:1", id);
    expect(approved).toMatchObject({ changed: true, principal: { status: "approved" } });
    expect((await service.approvePrincipal("webadmin:1", id)).changed).toBe(false);
    const actions = (await createAuditRepository(temp.store.db).list({ targetId: id, limit: 10 })).map((e) => `${e.actor} ${e.action}`);
    expect(actions).toEqual(["webadmin:1 approve_principal", "webadmin:1 revoke_principal", "actor create_principal"]);
  });

  it("answers NOT_FOUND for unknown ids and refuses to revoke anonymous", async () => {
    expect(await failure(service.revokePrincipal("a", "ghost"))).toEqual({ code: "NOT_FOUND", message: "principal not found" });
    expect(await failure(service.approvePrincipal("a", "ghost"))).toEqual({ code: "NOT_FOUND", message: "principal not found" });
    expect(await failure(service.revokePrincipal("a", "anonymous"))).toEqual({
      code: "FAILED_PRECONDITION",
      message: "cannot revoke the anonymous principal",
    });
  });

  it("deletePrincipal announces the deletion", async () => {
    const { id } = await service.createPrincipal("actor", { type: "client", displayName: "c", roles: [] });
    await service.deletePrincipal("actor", id);
    expect(removals).toEqual([{ principalId: id, reason: "deleted" }]);
  });
});

describe("getMe and createToken", () => {
  it("getMe answers INTERNAL 'failed to fetch principal' when the caller vanished", async () => {
    expect(await failure(service.getMe({ id: "gone", roles: [] }))).toEqual({ code: "INTERNAL", message: "failed to fetch principal" });
  });

  it("createToken mints a token the same secret verifies, expiring after the ttl", async () => {
    const { id } = await service.createPrincipal("actor", { type: "client", displayName: "c", roles: [] });
    const minted = await service.createToken("actor", { principalId: id, ttlSeconds: 60 });
    expect(minted.expiresAt.toISOString()).toBe("2025-03-01T12:01:00.000Z");
    expect(await createJwtService({ secret: SECRET, clock }).verify(minted.token)).toMatchObject({ principalId: id });
  });

  it("without a JWT service refuses createToken with FAILED_PRECONDITION", async () => {
    const noAuth = createIdentityService({ db: temp.store.db, jwt: undefined, clock });
    expect(noAuth.canIssueTokens).toBe(false);
    expect(await failure(noAuth.createToken("anonymous", { principalId: "x", ttlSeconds: 0 }))).toEqual({
      code: "FAILED_PRECONDITION",
      message: "token generation not configured (no jwt_secret)",
    });
  });
});
