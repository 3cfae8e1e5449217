// ABOUTME: The public device-link routes on the HTTP app over a real store: bodies and plain-text errors of
// ABOUTME: http-api.md §9, status polling through approval and scrub, the 60/min rate limit and the lockout.
import { afterEach, describe, expect, it } from "vitest";
import { createJwtService } from "../../src/auth/jwt.js";
import { createLinkService, type LinkService } from "../../src/auth/link-service.js";
import { createLockout, type Lockout } from "../../src/auth/lockout.js";
import { createPrincipalResolver } from "../../src/auth/principal-resolver.js";
import { createAddressRateLimiter } from "../../src/http/address-rate-limiter.js";
import { createJwtHttpAuthenticator } from "../../src/http/jwt-http-authenticator.js";
import { createLinkCodeRepository } from "../../src/store/link-code-repository.js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import { createManualClock, type ManualClock } from "../store/temp-database.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const START = "2025-03-01T12:00:00.000Z";
const FINGERPRINT = "0123456789ABCDEF".repeat(4);
const ADMIN_ID = "admin-1";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface LinkSetup {
  h: HttpHarness;
  clock: ManualClock;
  links: LinkService;
  lockout: Lockout;
}

/** The app with link routes over the harness store; `withLockout` wires the lockout as the gateway does with auth on. */
async function linkApp(options: { withLockout?: boolean; trustProxy?: boolean } = {}): Promise<LinkSetup> {
  const clock = createManualClock(START);
  const jwt = createJwtService({ secret: SECRET, clock });
  const lockout = createLockout({ clock });
  let links: LinkService | undefined;
  const lazyLinks: Pick<LinkService, "request" | "status"> = {
    request: (input) => links!.request(input),
    status: (code) => links!.status(code),
  };
  const resolver = createPrincipalResolver({
    jwt,
    lookup: { findPrincipal: (id) => createPrincipalRepository(h!.store.db).findById(id), rolesOf: (id) => createRoleRepository(h!.store.db).rolesOf(id) },
  });
  h = await createHttpHarness({
    clock,
    deps: {
      auth: createJwtHttpAuthenticator({ resolver, lockout }),
      links: lazyLinks,
      linkRateLimiter: createAddressRateLimiter({ clock }),
      lockout: options.withLockout === false ? undefined : lockout,
      trustProxy: options.trustProxy ?? false,
    },
  });
  links = createLinkService({ db: h.store.db, jwt, clock });
  await h.store.db
    .insertInto("admin_users")
    .values({ id: ADMIN_ID, username: "admin", password_hash: null, display_name: "Admin", created_at: START })
    .execute();
  return { h, clock, links, lockout };
}

function requestCode(s: LinkSetup, payload: unknown, headers: Record<string, string> = {}) {
  return s.h.app.inject({ method: "POST", url: "/api/link/request", payload: typeof payload === "string" ? payload : JSON.stringify(payload), headers });
}

function poll(s: LinkSetup, code: string, headers: Record<string, string> = {}) {
  return s.h.app.inject({ method: "GET", url: `/api/link/status/${code}`, headers });
}

describe("POST /api/link/request", () => {
  it("answers 200 JSON {code, expires_at} without any Authorization, storing the fingerprint lowercased", async () => {
    const s = await linkApp();
    const res = await requestCode(s, { fingerprint: FINGERPRINT, device_name: "laptop", extra: 1 });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    const body = res.json() as { code: string; expires_at: string };
    expect(Object.keys(body)).toEqual(["code", "expires_at"]);
    expect(body.code).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/);
    expect(body.expires_at).toBe("2025-03-01T12:10:00.000Z");
    expect(res.body.endsWith("}\n")).toBe(true);
    expect((await createLinkCodeRepository(s.h.store.db).findByCode(body.code))?.fingerprint).toBe(FINGERPRINT.toLowerCase());
  });

  it.each([
    ["broken JSON", "{", "Invalid request body"],
    ["a JSON array", "[]", "Invalid request body"],
    ["a number fingerprint", { fingerprint: 7, device_name: "d" }, "Invalid request body"],
    ["no device name", { fingerprint: FINGERPRINT }, "fingerprint and device_name required"],
    ["an empty fingerprint", { fingerprint: "", device_name: "d" }, "fingerprint and device_name required"],
    ["a short fingerprint", { fingerprint: "abc", device_name: "d" }, "invalid fingerprint format (expected 64 hex chars)"],
    ["a non-hex fingerprint", { fingerprint: "g".repeat(64), device_name: "d" }, "invalid fingerprint format (expected 64 hex chars)"],
  ])("answers 400 text/plain for %s", async (_name, payload, message) => {
    const s = await linkApp();
    const res = await requestCode(s, payload);
    expect([res.statusCode, res.headers["content-type"], res.body]).toEqual([400, "text/plain; charset=utf-8", `${message}\n`]);
  });

  it("answers 500 'Failed to create link code' when the store fails, and 405 with an empty body for other methods", async () => {
    const s = await linkApp();
    const wrong = await s.h.app.inject({ method: "GET", url: "/api/link/request" });
    expect([wrong.statusCode, wrong.body]).toEqual([405, ""]);
    await s.h.store.db.schema.dropTable("link_codes").execute();
    const res = await requestCode(s, { fingerprint: FINGERPRINT, device_name: "d" });
    expect([res.statusCode, res.headers["content-type"], res.body]).toEqual([500, "text/plain; charset=utf-8", "Failed to create link code\n"]);
  });
});

describe("GET /api/link/status/{code}", () => {
  it("reports pending, then approved with the token for 5 minutes, then approved without it", async () => {
    const s = await linkApp();
    const { code } = (await requestCode(s, { fingerprint: FINGERPRINT, device_name: "laptop" })).json() as { code: string };
    const pending = await poll(s, code);
    expect([pending.statusCode, pending.headers["content-type"], pending.body]).toEqual([200, "application/json", '{"status":"pending"}\n']);

    s.clock.set("2025-03-01T12:02:00.000Z");
    const { principalId } = await s.links.approve(`webadmin:${ADMIN_ID}`, code);
    const approved = await poll(s, code);
    const body = approved.json() as { principal_id: string; status: string; token: string };
    expect(Object.keys(body)).toEqual(["principal_id", "status", "token"]);
    expect(body).toMatchObject({ principal_id: principalId, status: "approved" });
    const me = await s.h.app.inject({ method: "GET", url: "/api/agents", headers: { authorization: `Bearer ${body.token}` } });
    expect(me.statusCode).toBe(200);

    s.clock.set("2025-03-01T12:07:00.001Z");
    expect((await poll(s, code)).body).toBe('{"status":"approved"}\n');
    expect((await createLinkCodeRepository(s.h.store.db).findByCode(code))?.token).toBeUndefined();
  });

  it("reports expired once a pending code passed expires_at", async () => {
    const s = await linkApp();
    const { code } = (await requestCode(s, { fingerprint: FINGERPRINT, device_name: "d" })).json() as { code: string };
    s.clock.set("2025-03-01T12:10:00.000Z");
    expect((await poll(s, code)).body).toBe('{"status":"expired"}\n');
  });

  it("answers 404 text 'Code not found' (exact match), 500 'Internal error' on store failure, 405 for POST", async () => {
    const s = await linkApp();
    const { code } = (await requestCode(s, { fingerprint: FINGERPRINT, device_name: "d" })).json() as { code: string };
    const lower = await poll(s, code.toLowerCase());
    expect([lower.statusCode, lower.headers["content-type"], lower.body]).toEqual([404, "text/plain; charset=utf-8", "Code not found\n"]);
    const wrong = await s.h.app.inject({ method: "POST", url: `/api/link/status/${code}` });
    expect([wrong.statusCode, wrong.body]).toEqual([405, ""]);
    await s.h.store.db.schema.dropTable("link_codes").execute();
    const broken = await poll(s, code);
    expect([broken.statusCode, broken.body]).toEqual([500, "Internal error\n"]);
  });
});

describe("abuse limits", () => {
  it("allows 60 link requests a minute per address across both routes, then 429 JSON 'rate limit exceeded'", async () => {
    const s = await linkApp({ trustProxy: true });
    const { code } = (await requestCode(s, { fingerprint: FINGERPRINT, device_name: "d" })).json() as { code: string };
    for (let i = 0; i < 59; i += 1) expect((await poll(s, code)).statusCode).toBe(200);
    const limited = [await poll(s, code), await requestCode(s, { fingerprint: FINGERPRINT, device_name: "d" })];
    for (const res of limited) {
      expect([res.statusCode, res.headers["content-type"], res.body]).toEqual([429, "application/json", '{"error":"rate limit exceeded"}\n']);
    }
    expect((await poll(s, code, { "x-forwarded-for": "203.0.113.5" })).statusCode).toBe(200);
    s.clock.set("2025-03-01T12:01:00.001Z");
    expect((await poll(s, code)).statusCode).toBe(200);
  });

  it("counts polls for unknown codes as failed attempts: the 11th gets 429 with Retry-After, and the JWT routes too", async () => {
    const s = await linkApp();
    for (let i = 0; i < 10; i += 1) expect((await poll(s, `GUESS${i}`)).statusCode).toBe(404);
    for (const res of [await poll(s, "GUESSX"), await requestCode(s, { fingerprint: FINGERPRINT, device_name: "d" }), await s.h.app.inject({ url: "/api/agents" })]) {
      expect([res.statusCode, res.body, res.headers["retry-after"]]).toEqual([429, '{"error":"too many failed authentication attempts"}\n', "300"]);
    }
    expect((await s.h.app.inject({ url: "/health" })).statusCode).toBe(200);
  });

  it("never locks when no lockout is wired (auth off), and bad request bodies never count", async () => {
    const s = await linkApp({ withLockout: false });
    for (let i = 0; i < 12; i += 1) expect((await poll(s, `GUESS${i}`)).statusCode).toBe(404);
    await h?.close();
    h = undefined;
    const locked = await linkApp();
    for (let i = 0; i < 12; i += 1) expect((await requestCode(locked, { fingerprint: "bad", device_name: "d" })).statusCode).toBe(400);
    expect((await poll(locked, "NOPE22")).statusCode).toBe(404);
    expect(locked.lockout.retryAfterSeconds("127.0.0.1")).toBe(0);
  });
});
