// ABOUTME: Web admin sign-in through app.inject (web-admin.md §3, §10.1): cookies, CSRF, unauthenticated access,
// ABOUTME: setup, login errors, invites, bcrypt `$2a$` hashes, and the no-auth notice.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isoTimestamp } from "../../src/lib/clock.js";
import { createAdminUserRepository } from "../../src/store/admin-user-repository.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { createInviteRepository } from "../../src/store/invite-repository.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { ADMIN, Browser, setCookies, setupAdmin, signedIn, startWebGateway } from "./support.js";

function cookieLine(lines: string[], name: string): string {
  const line = lines.find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie in ${JSON.stringify(lines)}`);
  return line;
}

describe("web admin authentication", () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await startWebGateway();
  });
  afterEach(async () => {
    await gw.stop();
  });

  it("redirects /login to /setup on an empty database, and setup is locked after the first user", async () => {
    const b = new Browser(gw.gateway.http);
    const first = await b.get("/login");
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe("/setup");
    const setup = await setupAdmin(b, true);
    expect(setup.statusCode).toBe(200);
    expect(setup.body).toContain("Setup Complete");
    expect(setup.body).toContain(`Welcome, ${ADMIN.displayName}!`);
    expect(setup.body).toContain("Save this API token — it won't be shown again:");
    expect(setup.body).toMatch(/data-testid="token-value"[^>]*>eyJ/);
    expect(setup.body).toContain('href="/"');
    expect(setup.body).toContain("Start Chatting");

    const other = new Browser(gw.gateway.http);
    expect((await other.get("/setup")).headers.location).toBe("/login");
    await other.get("/login");
    const again = await other.form("/setup", { username: "mallory", display_name: "M", password: "password123" });
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe("/login");
    expect(await createAdminUserRepository(gw.gateway.store.db).count()).toBe(1);

    const audit = await createAuditRepository(gw.gateway.store.db).list({ limit: 10 });
    const actions = audit.map((a) => a.action).sort();
    expect(actions).toEqual(["create_principal", "create_token"]);
    const user = await createAdminUserRepository(gw.gateway.store.db).findByUsername(ADMIN.username);
    expect(audit.every((a) => a.actor === `webadmin:${user?.id}`)).toBe(true);
    expect(user?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(user?.passwordHash).toMatch(/^\$2[ab]\$10\$/);
  });

  it("two concurrent setups produce exactly one user", async () => {
    const a = new Browser(gw.gateway.http);
    const b = new Browser(gw.gateway.http);
    await a.get("/setup");
    await b.get("/setup");
    const fields = (name: string) => ({ username: name, display_name: name, password: "password123" });
    const [ra, rb] = await Promise.all([a.form("/setup", fields("first_admin")), b.form("/setup", fields("second_admin"))]);
    expect([ra.statusCode, rb.statusCode].sort()).toEqual([200, 303]);
    expect(await createAdminUserRepository(gw.gateway.store.db).count()).toBe(1);
  });

  it("shows the setup validation texts", async () => {
    const b = new Browser(gw.gateway.http);
    await b.get("/setup");
    const cases: Array<[Record<string, string>, string]> = [
      [{ username: " ", display_name: "x", password: "password123" }, "All fields are required"],
      [{ username: "ab", display_name: "x", password: "password123" }, "Username must be at least 3 characters"],
      [{ username: "a".repeat(33), display_name: "x", password: "password123" }, "Username must be at most 32 characters"],
      [{ username: "1abc", display_name: "x", password: "password123" }, "Username must start with a letter and contain only letters, numbers, and underscores"],
      [{ username: "abc", display_name: "x", password: "short" }, "Password must be at least 8 characters"],
      [{ username: "abc", display_name: "x", password: "é".repeat(40) }, "Failed to process password"],
    ];
    for (const [fields, text] of cases) {
      const res = await b.form("/setup", fields);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(`data-testid="form-error" role="alert">${text.replace(/'/g, "&#39;")}<`);
    }
    const csrf = await b.form("/setup", { username: "abc", display_name: "x", password: "password123" }, { csrf: "0".repeat(64) });
    expect(csrf.body).toContain("Invalid request, please try again");
    const bad = await gw.gateway.http.inject({
      method: "POST",
      url: "/setup",
      headers: { cookie: b.cookieHeader, "content-type": "application/x-www-form-urlencoded" },
      payload: "username=%zz",
    });
    expect(bad.body).toContain("Invalid form data");
    expect(await createAdminUserRepository(gw.gateway.store.db).count()).toBe(0);
  });

  it("sets the session and CSRF cookies with the exact attributes, and logout clears both", async () => {
    const b = new Browser(gw.gateway.http);
    const setupPage = await b.get("/setup");
    const csrf = cookieLine(setCookies(setupPage), "coven_admin_csrf");
    expect(csrf).toMatch(/^coven_admin_csrf=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(setupPage.body).toContain(`<meta name="csrf-token" content="${b.csrf}">`);
    expect(setupPage.body).toContain(`name="csrf_token" value="${b.csrf}"`);
    const before = Date.now();
    const res = await setupAdmin(b);
    const session = cookieLine(setCookies(res), "coven_admin_session");
    expect(session).toMatch(/^coven_admin_session=[0-9a-f]{64}; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    const expires = Date.parse(/Expires=([^;]+)/.exec(session)?.[1] ?? "");
    expect(Math.abs(expires - (before + 7 * 24 * 3600 * 1000))).toBeLessThan(60_000);
    // A page that already has the CSRF cookie does not replace it.
    expect(cookieLine([...setCookies(await b.get("/admin/")), "coven_admin_csrf=x"], "coven_admin_csrf")).toBe("coven_admin_csrf=x");

    const out = await b.form("/logout", {});
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe("/login");
    const cleared = setCookies(out);
    expect(cookieLine(cleared, "coven_admin_session")).toMatch(/^coven_admin_session=; Path=\/; Max-Age=0; HttpOnly/);
    expect(cookieLine(cleared, "coven_admin_csrf")).toMatch(/^coven_admin_csrf=; Path=\/; Max-Age=0; HttpOnly/);
    const count = await gw.gateway.store.db.selectFrom("admin_sessions").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it("logs out even with a mismatched CSRF token (it is only logged); /admin/logout is an alias", async () => {
    const b = await signedIn(gw);
    const out = await b.form("/admin/logout", {}, { csrf: "f".repeat(64) });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe("/login");
    expect((await b.get("/admin/")).headers.location).toBe("/login");
  });

  it("marks cookies Secure when the base URL is https", async () => {
    await gw.stop();
    gw = await startWebGateway({ mutate: (c) => ({ ...c, webadmin: { baseUrl: "https://gw.example.ts.net" } }) });
    const b = new Browser(gw.gateway.http);
    expect(cookieLine(setCookies(await b.get("/setup")), "coven_admin_csrf")).toMatch(/; Secure$/);
    expect(cookieLine(setCookies(await setupAdmin(b)), "coven_admin_session")).toMatch(/; Secure$/);
  });

  it("answers each login error with its exact text and status 200", async () => {
    await signedIn(gw);
    const users = createAdminUserRepository(gw.gateway.store.db);
    await users.create({ id: "passkeyonly", username: "keyonly", passwordHash: undefined, displayName: "K", now: isoTimestamp(new Date()) });
    const b = new Browser(gw.gateway.http);
    const page = await b.get("/login");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="login-form"');
    expect(page.body).toContain('data-testid="passkey-login"');
    const cases: Array<[Record<string, string>, string, string | null | undefined]> = [
      [{ username: "alice", password: "x" }, "Invalid request, please try again", "0".repeat(64)],
      [{ username: "alice", password: "" }, "Username and password required", undefined],
      [{ username: "nobody", password: "whatever1" }, "Invalid username or password", undefined],
      [{ username: "alice", password: "wrong password" }, "Invalid username or password", undefined],
      [{ username: "keyonly", password: "whatever1" }, "Password login not enabled for this account", undefined],
    ];
    for (const [fields, text, csrf] of cases) {
      const res = await b.form("/login", fields, { csrf });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(`data-testid="form-error" role="alert">${text}<`);
      expect(setCookies(res).some((c) => c.startsWith("coven_admin_session="))).toBe(false);
    }
    const noCsrf = await b.form("/login", { username: "alice", password: ADMIN.password }, { csrf: null });
    expect(noCsrf.body).toContain("Invalid request, please try again");
    const bad = await gw.gateway.http.inject({
      method: "POST",
      url: "/login",
      headers: { cookie: b.cookieHeader, "content-type": "application/x-www-form-urlencoded" },
      payload: "username=%G1",
    });
    expect(bad.statusCode).toBe(200);
    expect(bad.body).toContain("Invalid form data");

    const ok = await b.form("/login", { username: ADMIN.username, password: ADMIN.password });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/");
    expect((await b.get("/login")).headers.location).toBe("/");
  });

  it("verifies the Go reference's $2a$ bcrypt hashes", async () => {
    await signedIn(gw);
    // OpenBSD bcrypt test vector for the password "U*U" (a `$2a$` hash as Go's x/crypto/bcrypt writes).
    const hash = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
    await gw.gateway.store.db
      .insertInto("admin_users")
      .values({ id: "goref", username: "goadmin", password_hash: hash, display_name: "Go", created_at: isoTimestamp(new Date()) })
      .execute();
    const b = new Browser(gw.gateway.http);
    await b.get("/login");
    // "U*U" is under 8 characters, but login does not apply the signup length rule.
    const res = await b.form("/login", { username: "goadmin", password: "U*U" });
    expect(res.statusCode).toBe(303);
  });

  it("gates pages with 303 /login and XHR endpoints with 401 JSON", async () => {
    await signedIn(gw);
    const anon = new Browser(gw.gateway.http);
    for (const url of ["/", "/admin/", "/admin/dashboard", "/admin/chat/x"]) {
      const res = await anon.get(url);
      expect(res.statusCode, url).toBe(303);
      expect(res.headers.location, url).toBe("/login");
    }
    const page = await anon.form("/admin/invites", {});
    expect(page.statusCode).toBe(303);
    for (const [method, url] of [
      ["GET", "/api/admin/agents"],
      ["POST", "/api/admin/invites"],
    ] as const) {
      const res = await anon.json(method, url);
      expect(res.statusCode, url).toBe(401);
      expect(res.body).toBe('{"error":"not authenticated"}\n');
    }
    // An expired session counts as none.
    const b = await new Browser(gw.gateway.http);
    await b.get("/login");
    await b.form("/login", { username: ADMIN.username, password: ADMIN.password });
    await gw.gateway.store.db.updateTable("admin_sessions").set({ expires_at: "2000-01-01T00:00:00.000Z" }).execute();
    expect((await b.get("/admin/")).headers.location).toBe("/login");
  });

  it("refuses S+C routes without or with a mismatched CSRF token, and accepts field and header", async () => {
    const b = await signedIn(gw);
    for (const csrf of [null, "0".repeat(64)]) {
      const form = await b.form("/admin/invites", {}, { csrf });
      expect(form.statusCode).toBe(403);
      expect(form.body).toBe("Invalid request");
      const xhr = await b.json("POST", "/api/admin/invites", undefined, { csrf });
      expect(xhr.statusCode).toBe(403);
      expect(xhr.body).toBe("Invalid request");
    }
    expect((await b.form("/admin/invites", {})).statusCode).toBe(200);
    expect((await b.json("POST", "/api/admin/invites")).statusCode).toBe(200);
  });

  it("resolves a session from a raw Cookie header (for other edges)", async () => {
    const b = await signedIn(gw);
    const session = await gw.gateway.webAdmin.sessions.resolveCookieHeader(b.cookieHeader);
    expect(session?.user.username).toBe(ADMIN.username);
    expect(await gw.gateway.webAdmin.sessions.resolveCookieHeader("coven_admin_session=" + "a".repeat(64))).toBeUndefined();
    expect(await gw.gateway.webAdmin.sessions.resolveCookieHeader(undefined)).toBeUndefined();
  });
});

describe("web admin invites", () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await startWebGateway();
  });
  afterEach(async () => {
    await gw.stop();
  });

  it("creates invite URLs under the base URL, audited, and signs up through them", async () => {
    const b = await signedIn(gw);
    const xhr = await b.json("POST", "/api/admin/invites");
    expect(xhr.statusCode).toBe(200);
    const { url } = JSON.parse(xhr.body) as { url: string };
    expect(url).toMatch(/^http:\/\/localhost:8080\/invite\/[0-9a-f]{64}$/);
    const form = await b.form("/admin/invites", {});
    expect(form.body).toMatch(/data-testid="invite-url" id="invite-url">http:\/\/localhost:8080\/invite\/[0-9a-f]{64}</);
    const audit = await createAuditRepository(gw.gateway.store.db).list({ action: "create_invite", limit: 10 });
    expect(audit).toHaveLength(2);
    expect(JSON.parse(audit[0]?.detailJson ?? "{}")).toMatchObject({ username: ADMIN.username });

    const token = url.split("/").pop() as string;
    const guest = new Browser(gw.gateway.http);
    const page = await guest.get(`/invite/${token}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="invite-form"');
    const done = await guest.form(`/invite/${token}`, { username: "bob_2", password: "password123" });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/");
    const bob = await createAdminUserRepository(gw.gateway.store.db).findByUsername("bob_2");
    expect(bob?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(bob?.displayName).toBe("bob_2");
    expect((await guest.get("/")).statusCode).toBe(200);

    const again = new Browser(gw.gateway.http);
    expect((await again.get(`/invite/${token}`)).body).toContain("This invite has already been used");
  });

  it("shows the unknown, used and expired texts, and the signup validation texts", async () => {
    const b = await signedIn(gw);
    const now = Date.now();
    const invites = createInviteRepository(gw.gateway.store.db);
    const expired = await invites.create({ now: isoTimestamp(new Date(now - 2 * 86_400_000)), expiresAt: isoTimestamp(new Date(now - 86_400_000)) });
    const fresh = await invites.create({ now: isoTimestamp(new Date(now)), expiresAt: isoTimestamp(new Date(now + 86_400_000)) });
    const guest = new Browser(gw.gateway.http);
    expect((await guest.get(`/invite/${"0".repeat(64)}`)).body).toContain("Invalid invite link");
    expect((await guest.get(`/invite/${expired.id}`)).body).toContain("This invite has expired");
    const cases: Array<[Record<string, string>, string]> = [
      [{ username: "", password: "password123" }, "Username and password required"],
      [{ username: "zz", password: "password123" }, "Username must be at least 3 characters"],
      [{ username: "carol", password: "short" }, "Password must be at least 8 characters"],
      [{ username: ADMIN.username, password: "password123" }, "Username already taken"],
    ];
    for (const [fields, text] of cases) {
      const res = await guest.form(`/invite/${fresh.id}`, fields);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(text);
    }
    expect((await guest.form(`/invite/${expired.id}`, { username: "carol", password: "password123" })).body).toContain("This invite has expired");
    expect((await guest.form(`/invite/${fresh.id}`, { username: "carol", password: "password123" }, { csrf: null })).body).toContain(
      "Invalid request, please try again",
    );
    expect(b).toBeDefined();
  });

  it("is single use under concurrency: one signup wins, the other sees the used text and creates no user", async () => {
    await signedIn(gw);
    const now = Date.now();
    const invite = await createInviteRepository(gw.gateway.store.db).create({
      now: isoTimestamp(new Date(now)),
      expiresAt: isoTimestamp(new Date(now + 86_400_000)),
    });
    const x = new Browser(gw.gateway.http);
    const y = new Browser(gw.gateway.http);
    await x.get(`/invite/${invite.id}`);
    await y.get(`/invite/${invite.id}`);
    const [rx, ry] = await Promise.all([
      x.form(`/invite/${invite.id}`, { username: "user_x", password: "password123" }),
      y.form(`/invite/${invite.id}`, { username: "user_y", password: "password123" }),
    ]);
    expect([rx.statusCode, ry.statusCode].sort()).toEqual([200, 303]);
    const loser = rx.statusCode === 200 ? rx : ry;
    expect(loser.body).toContain("This invite has already been used");
    expect(await createAdminUserRepository(gw.gateway.store.db).count()).toBe(2);
  });
});

describe("web admin with auth off", () => {
  it("completes setup with create_principal=on without a token and shows the notice", async () => {
    const gw = await startWebGateway({ authOff: true });
    try {
      const b = new Browser(gw.gateway.http);
      const res = await setupAdmin(b, true);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain("Setup Complete");
      expect(res.body).toContain("API token not created: auth is disabled (no jwt_secret configured)");
      expect(res.body).not.toContain('data-testid="token-value"');
      expect((await b.get("/")).statusCode).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});
