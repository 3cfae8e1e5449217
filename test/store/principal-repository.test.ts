// ABOUTME: Tests the principal repository against a real migrated database: lookups, inserts and conflicts,
// ABOUTME: deletion with roles, presence transitions that never overwrite pending/revoked, and `anonymous`.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import {
  ANONYMOUS_PRINCIPAL_ID,
  createPrincipalRepository,
  newAdminPrincipalId,
  type NewPrincipal,
  type PrincipalRepository,
  type PrincipalStatus,
} from "../../src/store/principal-repository.js";
import { createRoleRepository, type RoleRepository } from "../../src/store/role-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let principals: PrincipalRepository;
let roles: RoleRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  principals = createPrincipalRepository(temp.store.db);
  roles = createRoleRepository(temp.store.db);
});

afterEach(async () => {
  await temp.cleanup();
});

const T1 = "2025-03-01T10:00:00.000Z";
const T2 = "2025-03-01T11:00:00.000Z";
const T3 = "2025-03-01T12:00:00.000Z";
const FP_A = "a".repeat(64);
const FP_B = "0123456789abcdef".repeat(4);

function principal(overrides: Partial<NewPrincipal> = {}): NewPrincipal {
  return { id: "p1", type: "agent", displayName: "agent one", status: "approved", pubkeyFingerprint: FP_A, now: T1, ...overrides };
}

async function statusOf(id: string): Promise<{ status: PrincipalStatus | undefined; lastSeen: string | undefined }> {
  const found = await principals.findById(id);
  return { status: found?.status, lastSeen: found?.lastSeen };
}

describe("principal repository: lookups and inserts", () => {
  it("inserts and finds by id and by fingerprint (matched case-insensitively, stored lowercase)", async () => {
    const inserted = await principals.insert(principal({ pubkeyFingerprint: FP_B.toUpperCase(), metadataJson: '{"k":1}' }));
    const expected = {
      id: "p1",
      type: "agent",
      displayName: "agent one",
      status: "approved",
      pubkeyFingerprint: FP_B,
      createdAt: T1,
      lastSeen: undefined,
      metadataJson: '{"k":1}',
    };
    expect(inserted).toEqual(expected);
    expect(await principals.findById("p1")).toEqual(expected);
    expect(await principals.findByFingerprint(FP_B.toUpperCase())).toEqual(expected);
    expect(await principals.findById("missing")).toBeUndefined();
    expect(await principals.findByFingerprint(FP_A)).toBeUndefined();
  });

  it("allows any number of key-less principals", async () => {
    await principals.insert(principal({ id: "c1", type: "client", pubkeyFingerprint: undefined }));
    const second = await principals.insert(principal({ id: "c2", type: "client", pubkeyFingerprint: undefined }));
    expect(second?.pubkeyFingerprint).toBeUndefined();
    expect(await principals.countExcludingAnonymous()).toBe(2);
  });

  it("returns undefined when the fingerprint is taken, writing nothing", async () => {
    await principals.insert(principal());
    expect(await principals.insert(principal({ id: "p2", pubkeyFingerprint: FP_A.toUpperCase() }))).toBeUndefined();
    expect(await principals.findById("p2")).toBeUndefined();
  });

  it("throws ALREADY_EXISTS when the id is taken", async () => {
    await principals.insert(principal());
    const err = await principals.insert(principal({ pubkeyFingerprint: FP_B })).catch((e: unknown) => e);
    expect(isGatewayError(err, "ALREADY_EXISTS")).toBe(true);
  });

  it("rejects the reserved id, a malformed fingerprint and oversized metadata", async () => {
    const reserved = await principals.insert(principal({ id: ANONYMOUS_PRINCIPAL_ID })).catch((e: unknown) => e);
    expect(isGatewayError(reserved, "INVALID_ARGUMENT")).toBe(true);
    const badFp = await principals.insert(principal({ pubkeyFingerprint: "z".repeat(64) })).catch((e: unknown) => e);
    expect(isGatewayError(badFp, "INVALID_ARGUMENT")).toBe(true);
    const big = await principals.insert(principal({ metadataJson: `"${"x".repeat(65536)}"` })).catch((e: unknown) => e);
    expect(isGatewayError(big, "INVALID_ARGUMENT")).toBe(true);
    expect(await principals.countExcludingAnonymous()).toBe(0);
  });

  it("lists newest first, ties by insertion, with exact type and status filters", async () => {
    await principals.insert(principal({ id: "old", now: T1, pubkeyFingerprint: undefined, type: "client" }));
    await principals.insert(principal({ id: "tie-1", now: T2, pubkeyFingerprint: FP_A }));
    await principals.insert(principal({ id: "tie-2", now: T2, pubkeyFingerprint: FP_B, status: "pending" }));
    expect((await principals.list()).map((p) => p.id)).toEqual(["tie-2", "tie-1", "old"]);
    expect((await principals.list({ type: "agent" })).map((p) => p.id)).toEqual(["tie-2", "tie-1"]);
    expect((await principals.list({ type: "agent", status: "approved" })).map((p) => p.id)).toEqual(["tie-1"]);
    expect(await principals.list({ status: "bogus" })).toEqual([]);
    expect((await principals.list({ limit: 1 })).map((p) => p.id)).toEqual(["tie-2"]);
  });

  it("makes CreatePrincipal ids <type>-<base36 ms>-<4 hex>", () => {
    const now = new Date("2025-01-02T03:04:05.678Z");
    const id = newAdminPrincipalId("agent", now);
    expect(id).toMatch(/^agent-[0-9a-z]+-[0-9a-f]{4}$/);
    expect(parseInt(id.split("-")[1] ?? "", 36)).toBe(now.getTime());
  });
});

describe("principal repository: status and deletion", () => {
  it("setStatus returns the updated principal, undefined when unknown", async () => {
    await principals.insert(principal({ status: "pending" }));
    expect((await principals.setStatus("p1", "approved"))?.status).toBe("approved");
    expect(await principals.setStatus("missing", "revoked")).toBeUndefined();
  });

  it("delete removes the principal and its roles in one go, and nulls link_codes.principal_id", async () => {
    await principals.insert(principal());
    await principals.insert(principal({ id: "p2", pubkeyFingerprint: FP_B }));
    await roles.grant("p1", "member", T1);
    await roles.grant("p1", "admin", T1);
    await roles.grant("p2", "member", T1);
    await temp.store.db
      .insertInto("link_codes")
      .values({ id: "l1", code: "ABC234", fingerprint: FP_A, device_name: "d", created_at: T1, expires_at: T2, approved_by: null, approved_at: null, principal_id: "p1", token: null })
      .execute();

    expect(await principals.delete("p1")).toBe(true);
    expect(await principals.findById("p1")).toBeUndefined();
    expect(await roles.rolesOf("p1")).toEqual([]);
    expect(await roles.rolesOf("p2")).toEqual(["member"]);
    const link = await temp.store.db.selectFrom("link_codes").select("principal_id").executeTakeFirstOrThrow();
    expect(link.principal_id).toBeNull();
    expect(await principals.delete("p1")).toBe(false);
  });

  it("delete inside a rolled-back transaction keeps the principal and its roles", async () => {
    await principals.insert(principal());
    await roles.grant("p1", "member", T1);
    await expect(
      temp.store.db.transaction().execute(async (trx) => {
        await createPrincipalRepository(trx).delete("p1");
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await principals.findById("p1")).toBeDefined();
    expect(await roles.rolesOf("p1")).toEqual(["member"]);
  });

  it("refuses to delete anonymous", async () => {
    await principals.ensureAnonymous(false, T1);
    const err = await principals.delete(ANONYMOUS_PRINCIPAL_ID).catch((e: unknown) => e);
    expect(isGatewayError(err, "FAILED_PRECONDITION")).toBe(true);
    expect((err as Error).message).toBe("cannot delete the anonymous principal");
    expect(await principals.findById(ANONYMOUS_PRINCIPAL_ID)).toBeDefined();
  });
});

describe("principal repository: presence", () => {
  it("markOnline moves approved/offline/online to online and stamps last_seen", async () => {
    for (const [id, status, fp] of [["a", "approved", FP_A], ["o", "offline", FP_B], ["n", "online", undefined]] as const) {
      await principals.insert(principal({ id, status, pubkeyFingerprint: fp }));
      expect(await principals.markOnline(id, T2)).toBe(true);
      expect(await statusOf(id)).toEqual({ status: "online", lastSeen: T2 });
    }
  });

  it("never overwrites pending or revoked", async () => {
    await principals.insert(principal({ id: "pend", status: "pending", pubkeyFingerprint: FP_A }));
    await principals.insert(principal({ id: "rev", status: "revoked", pubkeyFingerprint: FP_B }));
    for (const id of ["pend", "rev"]) {
      expect(await principals.markOnline(id, T2)).toBe(false);
      expect(await principals.markOffline(id, T2)).toBe(false);
    }
    expect(await principals.resetOnlineToOffline()).toBe(0);
    expect(await statusOf("pend")).toEqual({ status: "pending", lastSeen: undefined });
    expect(await statusOf("rev")).toEqual({ status: "revoked", lastSeen: undefined });
  });

  it("markOffline only leaves online, and touch refreshes last_seen alone", async () => {
    await principals.insert(principal());
    expect(await principals.markOffline("p1", T2)).toBe(false);
    expect(await statusOf("p1")).toEqual({ status: "approved", lastSeen: undefined });
    await principals.markOnline("p1", T1);
    expect(await principals.touch("p1", T2)).toBe(true);
    expect(await statusOf("p1")).toEqual({ status: "online", lastSeen: T2 });
    expect(await principals.markOffline("p1", T3)).toBe(true);
    expect(await statusOf("p1")).toEqual({ status: "offline", lastSeen: T3 });
    expect(await principals.touch("missing", T3)).toBe(false);
  });

  it("resetOnlineToOffline turns every online principal offline, keeping last_seen", async () => {
    await principals.insert(principal({ id: "x", pubkeyFingerprint: FP_A }));
    await principals.insert(principal({ id: "y", pubkeyFingerprint: FP_B }));
    await principals.markOnline("x", T2);
    await principals.markOnline("y", T2);
    expect(await principals.resetOnlineToOffline()).toBe(2);
    expect(await statusOf("x")).toEqual({ status: "offline", lastSeen: T2 });
  });

  it("gives anonymous no presence updates", async () => {
    await principals.ensureAnonymous(false, T1);
    expect(await principals.markOnline(ANONYMOUS_PRINCIPAL_ID, T2)).toBe(false);
    expect(await principals.touch(ANONYMOUS_PRINCIPAL_ID, T2)).toBe(false);
    expect(await statusOf(ANONYMOUS_PRINCIPAL_ID)).toEqual({ status: "approved", lastSeen: undefined });
  });
});

describe("principal repository: anonymous", () => {
  it("no-auth ensure creates the row with role admin, and is idempotent", async () => {
    const expected = {
      id: ANONYMOUS_PRINCIPAL_ID,
      type: "client",
      displayName: "anonymous",
      status: "approved",
      pubkeyFingerprint: undefined,
      createdAt: T1,
      lastSeen: undefined,
      metadataJson: undefined,
    };
    expect(await principals.ensureAnonymous(false, T1)).toEqual(expected);
    expect(await principals.ensureAnonymous(false, T2)).toEqual(expected);
    expect(await roles.rolesOf(ANONYMOUS_PRINCIPAL_ID)).toEqual(["admin"]);
    expect(await principals.countExcludingAnonymous()).toBe(0);
  });

  it("auth-on revokes an existing row and creates none when absent", async () => {
    expect(await principals.ensureAnonymous(true, T1)).toBeUndefined();
    expect(await principals.findById(ANONYMOUS_PRINCIPAL_ID)).toBeUndefined();
    await principals.ensureAnonymous(false, T1);
    expect((await principals.ensureAnonymous(true, T2))?.status).toBe("revoked");
    expect((await principals.findById(ANONYMOUS_PRINCIPAL_ID))?.status).toBe("revoked");
  });

  it("no-auth ensure restores a revoked row to approved", async () => {
    await principals.ensureAnonymous(false, T1);
    await principals.ensureAnonymous(true, T2);
    await roles.revoke(ANONYMOUS_PRINCIPAL_ID, "admin");
    const restored = await principals.ensureAnonymous(false, T3);
    expect(restored?.status).toBe("approved");
    expect(restored?.createdAt).toBe(T1);
    expect(await roles.rolesOf(ANONYMOUS_PRINCIPAL_ID)).toEqual(["admin"]);
  });
});
