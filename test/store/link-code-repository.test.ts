// ABOUTME: Tests the link-code repository against a real migrated database: insert and collisions, guarded
// ABOUTME: approval (once, never after expiry), token scrub after the pickup window, expiry cleanup and listing.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  LINK_CODE_TTL_MS,
  LINK_TOKEN_PICKUP_WINDOW_MS,
  createLinkCodeRepository,
  type LinkCodeRepository,
} from "../../src/store/link-code-repository.js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let links: LinkCodeRepository;

const T0 = "2025-03-01T10:00:00.000Z";
const FP = "ab".repeat(32);

beforeEach(async () => {
  temp = await openTempDatabase();
  links = createLinkCodeRepository(temp.store.db);
  await temp.store.db
    .insertInto("admin_users")
    .values({ id: "admin-1", username: "admin", password_hash: null, display_name: "Admin", created_at: T0 })
    .execute();
  await createPrincipalRepository(temp.store.db).insert({
    id: "p1",
    type: "client",
    displayName: "laptop",
    status: "approved",
    pubkeyFingerprint: FP,
    now: T0,
  });
});

afterEach(async () => {
  await temp.cleanup();
});

/** T0 plus `ms`. */
function at(ms: number): string {
  return new Date(Date.parse(T0) + ms).toISOString();
}

const approval = (now: string) => ({ approvedBy: "admin-1", principalId: "p1", token: "jwt-token", now });

describe("link code repository", () => {
  it("inserts a pending code with a lowercase fingerprint and expiry = now + ttl", async () => {
    const code = await links.insert({ id: "l1", code: "ABC234", fingerprint: FP.toUpperCase(), deviceName: "laptop", now: T0, ttlMs: LINK_CODE_TTL_MS });
    const expected = {
      id: "l1",
      code: "ABC234",
      fingerprint: FP,
      deviceName: "laptop",
      status: "pending",
      createdAt: T0,
      expiresAt: "2025-03-01T10:10:00.000Z",
      approvedBy: undefined,
      approvedAt: undefined,
      principalId: undefined,
      token: undefined,
    };
    expect(code).toEqual(expected);
    expect(await links.findByCode("ABC234")).toEqual(expected);
    expect(await links.findById("l1")).toEqual(expected);
    expect(await links.findByCode("abc234")).toBeUndefined();
  });

  it("returns undefined on a code collision", async () => {
    await links.insert({ code: "ABC234", fingerprint: FP, deviceName: "a", now: T0, ttlMs: LINK_CODE_TTL_MS });
    expect(await links.insert({ code: "ABC234", fingerprint: FP, deviceName: "b", now: T0, ttlMs: LINK_CODE_TTL_MS })).toBeUndefined();
    expect((await links.findByCode("ABC234"))?.deviceName).toBe("a");
  });

  it("approves a pending code exactly once", async () => {
    await links.insert({ code: "ABC234", fingerprint: FP, deviceName: "laptop", now: T0, ttlMs: LINK_CODE_TTL_MS });
    const approved = await links.approve("ABC234", approval(at(60_000)));
    expect(approved).toMatchObject({ status: "approved", approvedBy: "admin-1", approvedAt: at(60_000), principalId: "p1", token: "jwt-token" });
    expect(await links.approve("ABC234", { ...approval(at(61_000)), token: "second" })).toBeUndefined();
    expect((await links.findByCode("ABC234"))?.token).toBe("jwt-token");
    expect(await links.approve("NOPE22", approval(at(60_000)))).toBeUndefined();
  });

  it("never approves a code at or past its expiry", async () => {
    await links.insert({ code: "ABC234", fingerprint: FP, deviceName: "laptop", now: T0, ttlMs: LINK_CODE_TTL_MS });
    expect(await links.approve("ABC234", approval(at(LINK_CODE_TTL_MS)))).toBeUndefined();
    expect((await links.findByCode("ABC234"))?.status).toBe("pending");
  });

  it("scrubs the token only once the pickup window after approval has passed", async () => {
    await links.insert({ code: "ABC234", fingerprint: FP, deviceName: "laptop", now: T0, ttlMs: LINK_CODE_TTL_MS });
    await links.approve("ABC234", approval(T0));
    expect(await links.scrubExpiredTokens(at(LINK_TOKEN_PICKUP_WINDOW_MS), LINK_TOKEN_PICKUP_WINDOW_MS)).toBe(0);
    expect((await links.findByCode("ABC234"))?.token).toBe("jwt-token");
    expect(await links.scrubExpiredTokens(at(LINK_TOKEN_PICKUP_WINDOW_MS + 1), LINK_TOKEN_PICKUP_WINDOW_MS)).toBe(1);
    const scrubbed = await links.findByCode("ABC234");
    expect(scrubbed).toMatchObject({ status: "approved", principalId: "p1", token: undefined });
    expect(await links.scrubExpiredTokens(at(LINK_TOKEN_PICKUP_WINDOW_MS * 2), LINK_TOKEN_PICKUP_WINDOW_MS)).toBe(0);
  });

  it("deletes only pending codes past expiry and lists the live pending ones oldest first", async () => {
    await links.insert({ code: "OLD222", fingerprint: FP, deviceName: "old", now: T0, ttlMs: 1000 });
    await links.insert({ code: "NEW222", fingerprint: FP, deviceName: "new", now: at(500), ttlMs: LINK_CODE_TTL_MS });
    await links.insert({ code: "MID222", fingerprint: FP, deviceName: "mid", now: T0, ttlMs: LINK_CODE_TTL_MS });
    await links.insert({ code: "APP222", fingerprint: FP, deviceName: "approved", now: T0, ttlMs: 1000 });
    await links.approve("APP222", approval(at(10)));

    expect((await links.listPending(at(2000))).map((c) => c.code)).toEqual(["MID222", "NEW222"]);
    expect(await links.deleteExpiredPending(at(999))).toBe(0);
    expect(await links.deleteExpiredPending(at(1000))).toBe(1);
    expect(await links.findByCode("OLD222")).toBeUndefined();
    expect((await links.findByCode("APP222"))?.status).toBe("approved");
  });
});
