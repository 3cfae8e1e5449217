// ABOUTME: Tests device linking over a real migrated SQLite file: code drawing and collisions, status polling,
// ABOUTME: approval in one transaction (principal, role, token, audits), token pickup window and scrub, no-auth refusal.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createJwtService, type JwtService } from "../../src/auth/jwt.js";
import { createLinkService, LINK_CODE_ALPHABET, type LinkService } from "../../src/auth/link-service.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { createLinkCodeRepository } from "../../src/store/link-code-repository.js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import type { StoreExecutor } from "../../src/store/transaction.js";
import { createManualClock, openTempDatabase, type ManualClock, type TempDatabase } from "../store/temp-database.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const FINGERPRINT = "AB".repeat(32);
const START = "2025-03-01T12:00:00.000Z";

let temp: TempDatabase;
let clock: ManualClock;
let jwt: JwtService;
let links: LinkService;
let adminId: string;

async function insertAdminUser(db: StoreExecutor, id: string): Promise<void> {
  await db.insertInto("admin_users").values({ id, username: `admin_${id.slice(0, 4)}`, password_hash: null, display_name: "Admin", created_at: START }).execute();
}

beforeEach(async () => {
  temp = await openTempDatabase();
  clock = createManualClock(START);
  jwt = createJwtService({ secret: SECRET, clock });
  links = createLinkService({ db: temp.store.db, jwt, clock });
  adminId = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
  await insertAdminUser(temp.store.db, adminId);
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

/** Randomness that replays `draws` (6 bytes each), then fails the test if more is asked for. */
function scriptedBytes(draws: number[][]): (size: number) => Uint8Array {
  return (size) => {
    const next = draws.shift();
    if (next === undefined || next.length !== size) throw new Error("unexpected draw");
    return Uint8Array.from(next);
  };
}

describe("request", () => {
  it("stores a pending 6-character code from the alphabet, expiring 10 minutes later, fingerprint lowercased", async () => {
    const { code, expiresAt } = await links.request({ fingerprint: FINGERPRINT, deviceName: "laptop" });
    expect(code).toMatch(new RegExp(`^[${LINK_CODE_ALPHABET}]{6}$`));
    expect(expiresAt).toBe("2025-03-01T12:10:00.000Z");
    const row = await createLinkCodeRepository(temp.store.db).findByCode(code);
    expect(row).toMatchObject({ fingerprint: "ab".repeat(32), deviceName: "laptop", status: "pending", createdAt: START });
    expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("maps each random byte mod 32 onto the alphabet", async () => {
    const service = createLinkService({ db: temp.store.db, jwt, clock, randomBytes: scriptedBytes([[0, 31, 32, 255, 8, 200]]) });
    const { code } = await service.request({ fingerprint: FINGERPRINT, deviceName: "d" });
    expect(code).toBe("A9A9J" + LINK_CODE_ALPHABET[200 % 32]);
  });

  it("draws again when the code is taken, and gives up with 'Failed to generate code' after repeated collisions", async () => {
    const same = [1, 2, 3, 4, 5, 6];
    const service = createLinkService({ db: temp.store.db, jwt, clock, randomBytes: scriptedBytes([same, same, [7, 7, 7, 7, 7, 7]]) });
    const first = await service.request({ fingerprint: FINGERPRINT, deviceName: "one" });
    const second = await service.request({ fingerprint: FINGERPRINT, deviceName: "two" });
    expect(first.code).toBe("BCDEFG");
    expect(second.code).toBe("HHHHHH");

    const stuck = createLinkService({ db: temp.store.db, jwt, clock, log: createMemoryLogger(), randomBytes: () => Uint8Array.from(same) });
    expect(await failure(stuck.request({ fingerprint: FINGERPRINT, deviceName: "three" }))).toEqual({
      code: "INTERNAL",
      message: "Failed to generate code",
    });
  });

  it("reports a randomness failure as 'Failed to generate code' and a store failure as 'Failed to create link code'", async () => {
    const broken = createLinkService({ db: temp.store.db, jwt, clock, log: createMemoryLogger(), randomBytes: () => {
      throw new Error("no entropy");
    } });
    expect(await failure(broken.request({ fingerprint: FINGERPRINT, deviceName: "d" }))).toEqual({ code: "INTERNAL", message: "Failed to generate code" });
    await temp.store.db.schema.dropTable("link_codes").execute();
    expect(await failure(links.request({ fingerprint: FINGERPRINT, deviceName: "d" }))).toEqual({ code: "INTERNAL", message: "Failed to create link code" });
  });

  it.each([
    [{ fingerprint: "", deviceName: "d" }, "fingerprint and device_name required"],
    [{ fingerprint: FINGERPRINT, deviceName: "" }, "fingerprint and device_name required"],
    [{ fingerprint: "ab".repeat(31) + "a", deviceName: "d" }, "invalid fingerprint format (expected 64 hex chars)"],
    [{ fingerprint: "zz".repeat(32), deviceName: "d" }, "invalid fingerprint format (expected 64 hex chars)"],
  ])("refuses %o with INVALID_ARGUMENT %s", async (input, message) => {
    expect(await failure(links.request(input))).toEqual({ code: "INVALID_ARGUMENT", message });
  });
});

describe("status", () => {
  it("is pending until expires_at, expired from then on, and NOT_FOUND 'Code not found' for unknown codes", async () => {
    const { code } = await links.request({ fingerprint: FINGERPRINT, deviceName: "d" });
    expect(await links.status(code)).toEqual({ status: "pending" });
    clock.set("2025-03-01T12:09:59.999Z");
    expect(await links.status(code)).toEqual({ status: "pending" });
    clock.set("2025-03-01T12:10:00.000Z");
    expect(await links.status(code)).toEqual({ status: "expired" });
    expect(await failure(links.status("ZZZZZZ"))).toEqual({ code: "NOT_FOUND", message: "Code not found" });
    expect(await failure(links.status(code.toLowerCase()))).toEqual({ code: "NOT_FOUND", message: "Code not found" });
  });

  it("reports a store failure as INTERNAL 'Internal error'", async () => {
    const service = createLinkService({ db: temp.store.db, jwt, clock, log: createMemoryLogger() });
    await temp.store.db.schema.dropTable("link_codes").execute();
    expect(await failure(service.status("ABCDEF"))).toEqual({ code: "INTERNAL", message: "Internal error" });
  });
});

describe("approve", () => {
  it("creates a member client principal for the device key, mints a 30-day token and audits all three steps", async () => {
    const { code } = await links.request({ fingerprint: FINGERPRINT, deviceName: "my laptop" });
    const row = await createLinkCodeRepository(temp.store.db).findByCode(code);
    clock.set("2025-03-01T12:01:00.000Z");
    const result = await links.approve(`webadmin:${adminId}`, row!.id);
    expect(result.isNewPrincipal).toBe(true);
    expect(result.link).toMatchObject({ status: "approved", approvedBy: adminId, approvedAt: "2025-03-01T12:01:00.000Z", principalId: result.principalId });

    const principal = await createPrincipalRepository(temp.store.db).findById(result.principalId);
    expect(principal).toMatchObject({ type: "client", displayName: "my laptop", status: "approved", pubkeyFingerprint: "ab".repeat(32) });
    expect(await createRoleRepository(temp.store.db).rolesOf(result.principalId)).toEqual(["member"]);

    const status = await links.status(code);
    expect(status).toMatchObject({ status: "approved", principalId: result.principalId });
    const verified = await jwt.verify((status as { token: string }).token);
    expect(verified.principalId).toBe(result.principalId);
    expect(verified.expiresAt.toISOString()).toBe("2025-03-31T12:01:00.000Z");

    const audit = await createAuditRepository(temp.store.db).list({ actor: `webadmin:${adminId}`, limit: 10 });
    expect(audit.map((entry) => [entry.action, entry.targetType, entry.targetId]).sort()).toEqual(
      [
        ["approve_link", "link_code", row!.id],
        ["create_principal", "principal", result.principalId],
        ["create_token", "principal", result.principalId],
      ].sort(),
    );
  });

  it("puts the web admin user's name first in the detail of every audit row it writes (web-admin.md §7)", async () => {
    const { code } = await links.request({ fingerprint: FINGERPRINT, deviceName: "tablet" });
    const { principalId } = await links.approve(`webadmin:${adminId}`, code, { username: "alice" });
    const audit = await createAuditRepository(temp.store.db).list({ limit: 10 });
    const details = Object.fromEntries(audit.map((entry) => [entry.action, JSON.parse(entry.detailJson ?? "{}") as Record<string, unknown>]));
    for (const action of ["create_principal", "create_token", "approve_link"]) expect(Object.keys(details[action]!)[0]).toBe("username");
    expect(details.approve_link).toEqual({ username: "alice", code, device_name: "tablet", principal_id: principalId });
  });

  it("reuses the principal that already holds the fingerprint (by code as well as by id)", async () => {
    const existing = await createPrincipalRepository(temp.store.db).insert({
      id: "5d1c1a0e-6a43-4c8f-9a44-0c6e3b0e4a11",
      type: "agent",
      displayName: "old",
      status: "approved",
      pubkeyFingerprint: FINGERPRINT,
      now: START,
    });
    const { code } = await links.request({ fingerprint: FINGERPRINT, deviceName: "d" });
    const result = await links.approve(`webadmin:${adminId}`, code);
    expect(result).toMatchObject({ principalId: existing!.id, isNewPrincipal: false });
    const actions = (await createAuditRepository(temp.store.db).list({ limit: 10 })).map((entry) => entry.action).sort();
    expect(actions).toEqual(["approve_link", "create_token"]);
    expect(await createRoleRepository(temp.store.db).rolesOf(existing!.id)).toEqual([]);
  });

  it("hands the token out for 5 minutes after approval, then scrubs it from the row", async () => {
    const { code } = await links.request({ fingerprint: FINGERPRINT, deviceName: "d" });
    const { principalId } = await links.approve(`webadmin:${adminId}`, code);
    clock.set("2025-03-01T12:04:59.999Z");
    expect(await links.status(code)).toMatchObject({ status: "approved", principalId, token: expect.any(String) });
    clock.set("2025-03-01T12:05:00.000Z");
    expect(await links.status(code)).toEqual({ status: "approved" });
    clock.set("2025-03-01T12:05:00.001Z");
    expect(await links.status(code)).toEqual({ status: "approved" });
    expect((await createLinkCodeRepository(temp.store.db).findByCode(code))?.token).toBeUndefined();
  });

  it("scrubs every token past its pickup window on a sweep, leaving fresh ones", async () => {
    const first = await links.request({ fingerprint: FINGERPRINT, deviceName: "one" });
    await links.approve(`webadmin:${adminId}`, first.code);
    clock.set("2025-03-01T12:04:00.000Z");
    const second = await links.request({ fingerprint: "cd".repeat(32), deviceName: "two" });
    await links.approve(`webadmin:${adminId}`, second.code);
    clock.set("2025-03-01T12:05:00.001Z");
    expect(await links.scrubExpiredTokens()).toBe(1);
    const repo = createLinkCodeRepository(temp.store.db);
    expect((await repo.findByCode(first.code))?.token).toBeUndefined();
    expect((await repo.findByCode(second.code))?.token).toEqual(expect.any(String));
  });

  it("refuses unknown codes, processed codes and expired codes with the web admin texts", async () => {
    expect(await failure(links.approve(`webadmin:${adminId}`, "NOPE22"))).toEqual({ code: "NOT_FOUND", message: "Code not found" });
    const { code } = await links.request({ fingerprint: FINGERPRINT, deviceName: "d" });
    await links.approve(`webadmin:${adminId}`, code);
    expect(await failure(links.approve(`webadmin:${adminId}`, code))).toEqual({ code: "FAILED_PRECONDITION", message: "Code already processed" });
    const late = await links.request({ fingerprint: "cd".repeat(32), deviceName: "late" });
    clock.set("2025-03-01T12:10:00.000Z");
    expect(await failure(links.approve(`webadmin:${adminId}`, late.code))).toEqual({ code: "FAILED_PRECONDITION", message: "Code already processed" });
    // Edges tell this refusal (400) from other preconditions (500) by its reason, never by the text.
    await expect(links.approve(`webadmin:${adminId}`, code)).rejects.toMatchObject({ reason: "link_already_processed" });
  });

  it("refuses in no-auth mode with 'Server not configured for link approval' before creating anything", async () => {
    const noAuth = createLinkService({ db: temp.store.db, jwt: undefined, clock });
    const { code } = await noAuth.request({ fingerprint: FINGERPRINT, deviceName: "d" });
    expect(await failure(noAuth.approve(`webadmin:${adminId}`, code))).toEqual({
      code: "FAILED_PRECONDITION",
      message: "Server not configured for link approval",
    });
    expect(await createPrincipalRepository(temp.store.db).countExcludingAnonymous()).toBe(0);
    expect(await noAuth.status(code)).toEqual({ status: "pending" });
  });

  it("rolls everything back when a step fails, answering INTERNAL 'Failed to approve'", async () => {
    const service = createLinkService({ db: temp.store.db, jwt, clock, log: createMemoryLogger() });
    const { code } = await service.request({ fingerprint: FINGERPRINT, deviceName: "d" });
    // An approver that is not an admin_users row violates the foreign key in the last write.
    expect(await failure(service.approve("webadmin:no-such-admin", code))).toEqual({ code: "INTERNAL", message: "Failed to approve" });
    expect(await createPrincipalRepository(temp.store.db).countExcludingAnonymous()).toBe(0);
    expect(await createAuditRepository(temp.store.db).list({ limit: 10 })).toEqual([]);
    expect(await service.status(code)).toEqual({ status: "pending" });
  });

  it("needs a web admin actor", async () => {
    const { code } = await links.request({ fingerprint: FINGERPRINT, deviceName: "d" });
    expect((await failure(links.approve("system", code))).code).toBe("INVALID_ARGUMENT");
  });
});
