// ABOUTME: The real JWT authenticator on the HTTP app (real resolver, store and lockout): every ordered check of
// ABOUTME: http-api.md §2 with its exact text, the admin gate, the per-address lockout (429 + Retry-After), trust_proxy.
import { afterEach, describe, expect, it } from "vitest";
import { createJwtService, type JwtService } from "../../src/auth/jwt.js";
import { createLockout, type Lockout } from "../../src/auth/lockout.js";
import { createPrincipalResolver, type PrincipalLookup } from "../../src/auth/principal-resolver.js";
import { createJwtHttpAuthenticator } from "../../src/http/jwt-http-authenticator.js";
import { isoTimestamp } from "../../src/lib/clock.js";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { createPrincipalRepository, type PrincipalStatus } from "../../src/store/principal-repository.js";
import { createRoleRepository, type RoleName } from "../../src/store/role-repository.js";
import type { StoreExecutor } from "../../src/store/transaction.js";
import { createManualClock, type ManualClock } from "../store/temp-database.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const START = "2025-03-01T12:00:00.000Z";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface AuthSetup {
  h: HttpHarness;
  jwt: JwtService;
  clock: ManualClock;
  lockout: Lockout;
  log: ReturnType<typeof createMemoryLogger>;
  seed(status: PrincipalStatus, roles?: RoleName[]): Promise<string>;
  bearer(principalId: string): Promise<Record<string, string>>;
}

function storeLookup(db: StoreExecutor): PrincipalLookup {
  return { findPrincipal: (id) => createPrincipalRepository(db).findById(id), rolesOf: (id) => createRoleRepository(db).rolesOf(id) };
}

/** The HTTP app behind the real authenticator; `lookup` replaces the store view (to simulate store states). */
async function authApp(options: { trustProxy?: boolean; lookup?: (db: StoreExecutor) => PrincipalLookup; authEnabled?: boolean } = {}): Promise<AuthSetup> {
  const clock = createManualClock(START);
  const log = createMemoryLogger();
  const jwt = createJwtService({ secret: SECRET, clock });
  const lockout = createLockout({ clock, log });
  let db: StoreExecutor | undefined;
  const lookup: PrincipalLookup = {
    findPrincipal: (id) => (options.lookup ?? storeLookup)(db!).findPrincipal(id),
    rolesOf: (id) => (options.lookup ?? storeLookup)(db!).rolesOf(id),
  };
  const resolver = createPrincipalResolver({ jwt: options.authEnabled === false ? undefined : jwt, lookup, log });
  h = await createHttpHarness({
    clock,
    deps: { auth: createJwtHttpAuthenticator({ resolver, lockout, log }), trustProxy: options.trustProxy ?? false },
  });
  db = h.store.db;
  let n = 0;
  const harness = h;
  return {
    h: harness,
    jwt,
    clock,
    lockout,
    log,
    async seed(status, roles = []) {
      n += 1;
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
      await createPrincipalRepository(harness.store.db).insert({ id, type: "client", displayName: `p${n}`, status, now: isoTimestamp(clock.now()) });
      for (const role of roles) await createRoleRepository(harness.store.db).grant(id, role, isoTimestamp(clock.now()));
      return id;
    },
    async bearer(principalId) {
      return { authorization: `Bearer ${(await jwt.mint(principalId, 3600)).token}` };
    },
  };
}

async function get(setup: AuthSetup, headers: Record<string, string> = {}, url = "/api/agents", remoteAddress?: string) {
  return setup.h.app.inject({ method: "GET", url, headers, ...(remoteAddress === undefined ? {} : { remoteAddress }) });
}

describe("the ordered checks of http-api.md §2", () => {
  it("answers each failure with its status and exact JSON error", async () => {
    const s = await authApp();
    const otherSecret = createJwtService({ secret: "another-secret-that-is-32-bytes-long!!", clock: s.clock });
    const pending = await s.seed("pending");
    const revoked = await s.seed("revoked");
    const expired = await s.seed("approved");
    const expiredToken = (await s.jwt.mint(expired, 60)).token;
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ["no header", {}, 401, "missing authorization header"],
      ["another scheme", { authorization: "Basic dXNlcjpwYXNz" }, 401, "invalid authorization header format"],
      ["lowercase bearer", { authorization: "bearer x.y.z" }, 401, "invalid authorization header format"],
      ["nothing after Bearer", { authorization: "Bearer " }, 401, "empty token"],
      ["garbage token", { authorization: "Bearer not-a-jwt" }, 401, "invalid token"],
      ["foreign signature", { authorization: `Bearer ${(await otherSecret.mint(expired, 3600)).token}` }, 401, "invalid token"],
      ["unknown sub", await s.bearer("no-such-principal"), 401, "principal not found"],
      ["pending", await s.bearer(pending), 403, "principal status is pending"],
      ["revoked", await s.bearer(revoked), 403, "principal has been revoked"],
    ];
    for (const [name, headers, status, error] of cases) {
      const res = await get(s, headers);
      expect([name, res.statusCode, res.body, res.headers["content-type"]]).toEqual([name, status, `${JSON.stringify({ error })}\n`, "application/json"]);
    }
    s.clock.set("2025-03-01T12:01:00.000Z");
    const res = await get(s, { authorization: `Bearer ${expiredToken}` });
    expect([res.statusCode, res.json()]).toEqual([401, { error: "invalid token" }]);
  });

  it("lets approved, online and offline principals through with their roles", async () => {
    const s = await authApp();
    for (const status of ["approved", "online", "offline"] as const) {
      const res = await get(s, await s.bearer(await s.seed(status)));
      expect([status, res.statusCode, res.body]).toEqual([status, 200, "[]\n"]);
    }
  });

  it("answers 500 'unknown principal status' for a status outside the gate, and redacts a store failure", async () => {
    const s = await authApp({
      lookup: () => ({
        findPrincipal: async (id) => {
          if (id === "broken") throw new Error("disk on fire");
          return { id, type: "client", displayName: id, status: "suspended" };
        },
        rolesOf: async () => [],
      }),
    });
    const weird = await get(s, await s.bearer("weird"));
    expect([weird.statusCode, weird.body]).toEqual([500, '{"error":"unknown principal status"}\n']);
    const broken = await get(s, await s.bearer("broken"));
    expect([broken.statusCode, broken.body]).toEqual([500, '{"error":"internal server error"}\n']);
  });

  it("keeps the admin gate on POST/DELETE /api/bindings: 'admin role required' for members, passes admins and owners", async () => {
    const s = await authApp();
    const member = await s.bearer(await s.seed("approved", ["member"]));
    for (const method of ["POST", "DELETE"] as const) {
      const res = await s.h.app.inject({ method, url: "/api/bindings", headers: member, payload: {} });
      expect([method, res.statusCode, res.json()]).toEqual([method, 403, { error: "admin role required" }]);
    }
    for (const role of ["admin", "owner"] as const) {
      const res = await s.h.app.inject({ method: "POST", url: "/api/bindings", headers: await s.bearer(await s.seed("approved", [role])), payload: {} });
      expect([role, res.statusCode, res.json()]).toEqual([role, 400, { error: "frontend, channel_id, and instance_id are required" }]);
    }
    expect((await s.h.app.inject({ method: "GET", url: "/api/bindings", headers: member })).statusCode).toBe(200);
  });

  it("answers as the anonymous admin when auth is off, whatever credentials are sent", async () => {
    const s = await authApp({ authEnabled: false });
    for (const headers of [{}, { authorization: "Bearer junk" }, { authorization: "Basic x" }] as Array<Record<string, string>>) {
      expect((await get(s, headers)).statusCode).toBe(200);
      const res = await s.h.app.inject({ method: "DELETE", url: "/api/bindings", headers });
      expect(res.json()).toEqual({ error: "frontend and channel_id query params required" });
    }
  });
});

describe("brute-force lockout (auth.md §14a)", () => {
  it("locks an address after 10 failed attempts: 429 with Retry-After, even for a valid token, then unlocks", async () => {
    const s = await authApp();
    const valid = await s.bearer(await s.seed("approved"));
    for (let i = 0; i < 10; i += 1) expect((await get(s, { authorization: "Bearer junk" })).statusCode).toBe(401);
    for (const headers of [valid, { authorization: "Bearer junk" }, {}]) {
      const res = await get(s, headers);
      expect(res.statusCode).toBe(429);
      expect(res.body).toBe('{"error":"too many failed authentication attempts"}\n');
      expect(res.headers["retry-after"]).toBe("300");
    }
    expect(s.log.entries.some((e) => e.level === "warn" && e.attrs.address === "127.0.0.1")).toBe(true);
    expect(s.lockout.stats().lockouts).toBe(1);
    const health = await s.h.app.inject({ method: "GET", url: "/health" });
    expect([health.statusCode, health.body]).toEqual([200, "OK"]);

    s.clock.set("2025-03-01T12:02:00.500Z");
    expect((await get(s, valid)).headers["retry-after"]).toBe("180");
    s.clock.set("2025-03-01T12:05:00.000Z");
    expect((await get(s, valid)).statusCode).toBe(200);
  });

  it("counts only authentication failures (401), not the status gate (403) or successes", async () => {
    const s = await authApp();
    const pending = await s.bearer(await s.seed("pending"));
    const valid = await s.bearer(await s.seed("approved"));
    for (let i = 0; i < 9; i += 1) expect((await get(s, {})).statusCode).toBe(401);
    for (let i = 0; i < 5; i += 1) {
      expect((await get(s, pending)).statusCode).toBe(403);
      expect((await get(s, valid)).statusCode).toBe(200);
    }
    expect((await get(s, {})).statusCode).toBe(401);
    expect((await get(s, valid)).statusCode).toBe(429);
  });

  it("keys on the socket address, or on the first X-Forwarded-For hop only with trust_proxy", async () => {
    const direct = await authApp();
    for (let i = 0; i < 10; i += 1) await get(direct, { "x-forwarded-for": `198.51.100.${i}` });
    expect((await get(direct, { "x-forwarded-for": "198.51.100.99" })).statusCode).toBe(429);
    expect((await get(direct, {}, "/api/agents", "192.0.2.1")).statusCode).toBe(401);
    await h?.close();
    h = undefined;

    const proxied = await authApp({ trustProxy: true });
    for (let i = 0; i < 10; i += 1) await get(proxied, { "x-forwarded-for": "203.0.113.7, 10.0.0.1" });
    expect((await get(proxied, { "x-forwarded-for": "203.0.113.7" })).statusCode).toBe(429);
    expect((await get(proxied, { "x-forwarded-for": "203.0.113.8, 203.0.113.7" })).statusCode).toBe(401);
    expect((await get(proxied, {})).statusCode).toBe(401);
  });
});
