// ABOUTME: Passkeys without a browser (web-admin.md §3.7, §10.1): relying-party derivation from the base URL, and
// ABOUTME: the ceremony endpoints' gates and error texts (the full ceremonies run in Chromium).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { deriveRelyingParty } from "../../src/webadmin/webauthn-config.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { Browser, signedIn, startWebGateway } from "./support.js";

describe("relying party derivation", () => {
  it("uses a DNS hostname as the rpID with both schemes as origins", () => {
    const log = createMemoryLogger();
    expect(deriveRelyingParty("http://localhost:8080", log)).toEqual({
      rpName: "coven admin",
      rpID: "localhost",
      origins: ["http://localhost:8080", "https://localhost:8080"],
    });
    expect(deriveRelyingParty("https://gw.example.ts.net", log)).toEqual({
      rpName: "coven admin",
      rpID: "gw.example.ts.net",
      origins: ["https://gw.example.ts.net", "http://gw.example.ts.net"],
    });
    expect(log.entries).toEqual([]);
  });

  it("maps an IP literal to localhost and warns", () => {
    const log = createMemoryLogger();
    expect(deriveRelyingParty("http://127.0.0.1:8080", log)).toEqual({
      rpName: "coven admin",
      rpID: "localhost",
      origins: ["http://localhost:8080", "https://localhost:8080"],
    });
    expect(log.entries.map((e) => [e.level, e.msg])).toEqual([
      ["warn", "passkeys require opening the admin UI at http://localhost:8080 (IP addresses cannot be WebAuthn RP IDs)"],
    ]);
    expect(deriveRelyingParty("http://[::1]:9000", createMemoryLogger())?.rpID).toBe("localhost");
    expect(deriveRelyingParty("not a url", createMemoryLogger())).toBeUndefined();
  });
});

describe("passkey endpoints", () => {
  let gw: TestGateway;
  let b: Browser;
  beforeAll(async () => {
    gw = await startWebGateway();
    b = await signedIn(gw);
  });
  afterAll(async () => {
    await gw.stop();
  });

  it("gates registration behind session and CSRF and hands out options with a session token", async () => {
    const anon = new Browser(gw.gateway.http);
    for (const path of ["/webauthn/register/begin", "/admin/webauthn/register/begin", "/webauthn/register/finish"]) {
      const res = await anon.json("POST", path);
      expect([res.statusCode, res.body]).toEqual([401, '{"error":"not authenticated"}\n']);
    }
    const noCsrf = await b.json("POST", "/webauthn/register/begin", undefined, { csrf: null });
    expect([noCsrf.statusCode, noCsrf.body]).toEqual([403, "Invalid request"]);
    const begin = await b.json("POST", "/webauthn/register/begin");
    expect(begin.statusCode).toBe(200);
    const body = JSON.parse(begin.body) as { options: Record<string, unknown>; sessionToken: string };
    expect(body.sessionToken).toMatch(/^[0-9a-f]{64}$/);
    expect(body.options).toMatchObject({
      rp: { name: "coven admin", id: "localhost" },
      user: { name: "alice", displayName: "Alice Admin" },
      attestation: "none",
      authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
    });
    const bad = await b.json("POST", "/webauthn/register/finish", { sessionToken: "0".repeat(64), response: { id: "x" } });
    expect([bad.statusCode, bad.body]).toEqual([400, "Invalid or expired session"]);
    const once = await b.json("POST", "/webauthn/register/finish", { sessionToken: body.sessionToken, response: { id: "x", response: {} } });
    expect([once.statusCode, once.body]).toEqual([400, "Failed to verify credential"]);
    const twice = await b.json("POST", "/webauthn/register/finish", { sessionToken: body.sessionToken, response: { id: "x", response: {} } });
    expect([twice.statusCode, twice.body]).toEqual([400, "Invalid or expired session"]);
  });

  it("starts a discoverable login without allowCredentials and refuses unknown tokens and credentials", async () => {
    const anon = new Browser(gw.gateway.http);
    const begin = await anon.json("POST", "/webauthn/login/begin", undefined, { csrf: null });
    expect(begin.statusCode).toBe(200);
    const body = JSON.parse(begin.body) as { options: Record<string, unknown>; sessionToken: string };
    expect(body.options.rpId).toBe("localhost");
    expect(body.options.userVerification).toBe("preferred");
    expect(body.options.allowCredentials ?? []).toEqual([]);
    const bad = await anon.json("POST", "/webauthn/login/finish", { sessionToken: "nope", response: { id: "AAAA" } }, { csrf: null });
    expect([bad.statusCode, bad.body]).toEqual([400, "Invalid or expired session"]);
    const unknown = await anon.json("POST", "/webauthn/login/finish", { sessionToken: body.sessionToken, response: { id: "AAAA", response: {} } }, { csrf: null });
    expect([unknown.statusCode, unknown.body]).toEqual([401, "Unknown credential"]);
  });
});
