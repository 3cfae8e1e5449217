// ABOUTME: Tests the QR pairing service over a real migrated SQLite file: deep link and host rules, the PNG, what a
// ABOUTME: mint stores and audits, the enrollment check order, the failure window on a manual clock, fail-closed claims.
import { sql } from "kysely";
import QRCode from "qrcode";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFailureWindow } from "../../src/auth/failure-window.js";
import {
  createPairingService,
  hashPairToken,
  ipLiteralHostText,
  pairDeepLink,
  pairingHost,
  queryEscape,
  PAIR_TEXT,
  type PairEnrollRequest,
  type PairingServiceOptions,
} from "../../src/auth/pairing-service.js";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import type { StoreExecutor } from "../../src/store/transaction.js";
import { decodeQrDataUrl } from "../support/qr-decode.js";
import { createManualClock, openTempDatabase, type ManualClock, type TempDatabase } from "../store/temp-database.js";

const T0 = "2026-03-01T10:00:00.000Z";
const FP = "ab".repeat(32);
const ADMIN = { id: "admin-1", username: "alice" };
let temp: TempDatabase;
let db: StoreExecutor;
let clock: ManualClock;

beforeEach(async () => {
  temp = await openTempDatabase();
  db = temp.store.db;
  clock = createManualClock(T0);
  await db.insertInto("admin_users").values({ id: ADMIN.id, username: ADMIN.username, password_hash: null, display_name: "Alice", created_at: T0 }).execute();
});
afterEach(async () => {
  await temp.cleanup();
});

function service(overrides: Partial<PairingServiceOptions> = {}) {
  return createPairingService({ db, clock, publicBaseUrl: () => "https://gw.example.ts.net", grpcPort: () => 50051, ...overrides });
}

const tokenOf = (url: string) => new URL(url.replace("coven://", "http://")).searchParams.get("token")!;

/** The reason of a rejected enrollment (or the INTERNAL text). */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isGatewayError(err, "UNAUTHENTICATED") || isGatewayError(err, "INTERNAL")) return `${err.code} ${err.message}`;
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("deep link", () => {
  it("omits &port= for 50051 and carries it otherwise, escaping like Go's url.QueryEscape", () => {
    expect(pairDeepLink("gw.example.ts.net", 50051, "abc-_x")).toBe("coven://pair?v=1&host=gw.example.ts.net&token=abc-_x");
    expect(pairDeepLink("gw.example.ts.net", 7777, "abc")).toBe("coven://pair?v=1&host=gw.example.ts.net&port=7777&token=abc");
    expect(queryEscape("a b+c/d=e&f!'()*~._-")).toBe("a+b%2Bc%2Fd%3De%26f%21%27%28%29%2A~._-");
  });

  it("takes the host of the base URL and refuses IPv4 and IPv6 literals", () => {
    expect(pairingHost("https://GW.Example.ts.net:8443")).toBe("gw.example.ts.net");
    expect(pairingHost("http://localhost:8080")).toBe("localhost");
    expect(pairingHost("http://100.101.102.103:8080")).toBeUndefined();
    expect(pairingHost("http://[fd7a:115c:a1e0::1]:8080")).toBeUndefined();
    expect(pairingHost("http://127.0.0.1")).toBeUndefined();
  });
});

describe("mint", () => {
  it("returns the deep link, a 256 px PNG that decodes to exactly it, and the expiry 5 minutes out", async () => {
    const minted = await service().mint(ADMIN);
    const token = tokenOf(minted.url);
    expect(minted.url).toBe(`coven://pair?v=1&host=gw.example.ts.net&token=${token}`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(minted.expiresAt).toBe("2026-03-01T10:05:00.000Z");
    const decoded = decodeQrDataUrl(minted.qr);
    expect(decoded).toEqual({ text: minted.url, version: expect.any(Number), width: 256, height: 256 });
    // Medium error correction: for this length, each level needs a different symbol version.
    const versionAt = (level: "L" | "M" | "Q" | "H") => QRCode.create(minted.url, { errorCorrectionLevel: level }).version;
    expect(new Set(["L", "M", "Q", "H"].map((l) => versionAt(l as "M"))).size).toBe(4);
    expect(decoded.version).toBe(versionAt("M"));
  });

  it("stores only the lowercase-hex SHA-256 and audits mint_pair_token without the token", async () => {
    const minted = await service({ grpcPort: () => 4242 }).mint(ADMIN);
    expect(minted.url).toContain("&port=4242&token=");
    const token = tokenOf(minted.url);
    const rows = await db.selectFrom("pair_tokens").selectAll().execute();
    expect(rows).toEqual([
      {
        id: minted.id,
        token_hash: hashPairToken(token),
        created_by: ADMIN.id,
        created_at: T0,
        expires_at: minted.expiresAt,
        used_at: null,
        principal_id: null,
      },
    ]);
    expect(hashPairToken(token)).toMatch(/^[0-9a-f]{64}$/);
    const audit = await createAuditRepository(db).list({ limit: 10 });
    expect(audit.map((e) => [e.actor, e.action, e.targetType, e.targetId, e.detailJson])).toEqual([
      ["webadmin:admin-1", "mint_pair_token", "pair_token", minted.id, JSON.stringify({ username: "alice", expires_at: minted.expiresAt })],
    ]);
  });

  it("refuses an IP-literal host with the exact text and stores nothing", async () => {
    const err = await service({ publicBaseUrl: () => "http://100.64.0.7:8080" }).mint(ADMIN).catch((e: unknown) => e);
    expect(isGatewayError(err, "FAILED_PRECONDITION")).toBe(true);
    expect((err as Error).message).toBe(
      'gateway base URL "http://100.64.0.7:8080" is an IP literal; set webadmin.base_url or COVEN_GATEWAY_URL to the tailnet DNS name',
    );
    expect((err as Error).message).toBe(ipLiteralHostText("http://100.64.0.7:8080"));
    expect(await db.selectFrom("pair_tokens").selectAll().execute()).toEqual([]);
    expect(await db.selectFrom("audit_log").selectAll().execute()).toEqual([]);
  });

  it("deletes expired tokens when minting", async () => {
    const pairing = service();
    const first = await pairing.mint(ADMIN);
    clock.set("2026-03-01T10:05:00.000Z");
    const second = await pairing.mint(ADMIN);
    const ids = (await db.selectFrom("pair_tokens").select("id").execute()).map((r) => r.id);
    expect(ids).toEqual([second.id]);
    expect(ids).not.toContain(first.id);
  });
});

describe("enroll", () => {
  const request = (overrides: Partial<PairEnrollRequest>): PairEnrollRequest => ({ token: "t", fingerprint: FP, deviceName: "phone", ...overrides });

  it("checks the body fields in order: token, fingerprint (64 chars), device_name (1-100 bytes)", async () => {
    const addresses = ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"];
    const pairing = service();
    const cases: Array<[PairEnrollRequest | undefined, string]> = [
      [undefined, PAIR_TEXT.invalidBody],
      [request({ token: "", fingerprint: "x", deviceName: "" }), PAIR_TEXT.invalidToken],
      [request({ fingerprint: "x", deviceName: "" }), PAIR_TEXT.invalidFingerprint],
      [request({ fingerprint: FP + "a" }), PAIR_TEXT.invalidFingerprint],
      [request({ deviceName: "" }), PAIR_TEXT.invalidDeviceName],
      [request({ deviceName: "é".repeat(51) }), PAIR_TEXT.invalidDeviceName],
      [request({ deviceName: "x".repeat(100) }), PAIR_TEXT.unknownToken],
    ];
    for (const [i, [input, reason]] of cases.entries()) {
      expect(await refusal(pairing.enroll(addresses[i]!, input))).toBe(`UNAUTHENTICATED ${reason}`);
    }
    expect(PAIR_TEXT).toMatchObject({
      invalidBody: "invalid request: body",
      invalidToken: "invalid request: token",
      invalidFingerprint: "invalid request: fingerprint",
      invalidDeviceName: "invalid request: device_name",
      unknownToken: "invalid token",
    });
  });

  it("refuses an address with 5 failures in the last minute, without counting that refusal", async () => {
    const pairing = service();
    const { url } = await pairing.mint(ADMIN);
    for (let i = 0; i < 5; i += 1) expect(await refusal(pairing.enroll("10.0.0.1", request({ token: "wrong" })))).toBe("UNAUTHENTICATED invalid token");
    clock.set("2026-03-01T10:00:30.000Z");
    const valid = request({ token: tokenOf(url) });
    expect(await refusal(pairing.enroll("10.0.0.1", valid))).toBe("UNAUTHENTICATED too many attempts");
    expect(await refusal(pairing.enroll("10.0.0.1", undefined))).toBe("UNAUTHENTICATED too many attempts");
    // Another address is not affected.
    expect(await refusal(pairing.enroll("10.0.0.2", request({ token: "wrong" })))).toBe("UNAUTHENTICATED invalid token");
    // The failures at T0 leave the window after a minute; the refusals at +30 s were not counted.
    clock.set("2026-03-01T10:01:00.001Z");
    expect((await pairing.enroll("10.0.0.1", valid)).isNewPrincipal).toBe(true);
  });

  it("reports each counted failure to the shared lockout and refuses a locked address as too many attempts", async () => {
    const reported: string[] = [];
    let lockedFor = 0;
    const pairing = service({ lockout: { recordFailure: (a) => reported.push(a), retryAfterSeconds: () => lockedFor } });
    await refusal(pairing.enroll("10.0.0.9", undefined));
    expect(reported).toEqual(["10.0.0.9"]);
    lockedFor = 120;
    expect(await refusal(pairing.enroll("10.0.0.9", request({})))).toBe("UNAUTHENTICATED too many attempts");
    expect(reported).toEqual(["10.0.0.9"]);
  });

  it("tells used, expired and unknown tokens apart, and forgets an expired token once it was presented", async () => {
    const pairing = service();
    const used = await pairing.mint(ADMIN);
    await pairing.enroll("a", request({ token: tokenOf(used.url) }));
    expect(await refusal(pairing.enroll("b", request({ token: tokenOf(used.url), fingerprint: "cd".repeat(32) })))).toBe(
      "UNAUTHENTICATED token already used",
    );
    const stale = await pairing.mint(ADMIN);
    clock.set("2026-03-01T10:05:00.000Z");
    expect(await refusal(pairing.enroll("c", request({ token: tokenOf(stale.url) })))).toBe("UNAUTHENTICATED token expired");
    expect(await refusal(pairing.enroll("d", request({ token: tokenOf(stale.url) })))).toBe("UNAUTHENTICATED invalid token");
    expect(await db.selectFrom("pair_tokens").selectAll().execute()).toEqual([]);
  });

  it("fails closed: a store failure after the claim is INTERNAL and the token stays used", async () => {
    const pairing = service();
    const { url } = await pairing.mint(ADMIN);
    await sql`CREATE TRIGGER refuse_principals BEFORE INSERT ON principals BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`.execute(db);
    expect(await refusal(pairing.enroll("a", request({ token: tokenOf(url) })))).toBe("INTERNAL internal error");
    const row = await db.selectFrom("pair_tokens").selectAll().executeTakeFirstOrThrow();
    expect(row.used_at).toBe(T0);
    expect(row.principal_id).toBeNull();
    expect(await db.selectFrom("principals").selectAll().execute()).toEqual([]);
    expect(await refusal(pairing.enroll("b", request({ token: tokenOf(url) })))).toBe("UNAUTHENTICATED token already used");
  });
});

describe("failure window", () => {
  it("slides: failures older than the window stop counting", () => {
    const window = createFailureWindow({ limit: 2, windowMs: 1_000, clock });
    window.recordFailure("x");
    clock.set("2026-03-01T10:00:00.500Z");
    window.recordFailure("x");
    expect(window.isBlocked("x")).toBe(true);
    clock.set("2026-03-01T10:00:01.000Z");
    expect(window.isBlocked("x")).toBe(false);
  });

  it("forgets the address touched longest ago when full", () => {
    const window = createFailureWindow({ limit: 1, windowMs: 60_000, maxAddresses: 2, clock });
    window.recordFailure("a");
    window.recordFailure("b");
    window.recordFailure("c");
    expect([window.isBlocked("a"), window.isBlocked("b"), window.isBlocked("c")]).toEqual([false, true, true]);
  });
});
