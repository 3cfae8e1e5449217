// ABOUTME: QR pairing enrollment (`POST /api/link/pair`) through the whole auth-on gateway over real HTTP and SQLite:
// ABOUTME: exact 401 reasons in order, the failure limit, single use under 20 racers, expiry, reuse, secrecy, SSH after.
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/lib/logger.js";
import type { Clock } from "../../src/lib/clock.js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { fingerprintOf, newAgentKey, seedPrincipal, sshMetadata, startAuthGateway, type AuthGatewayOptions } from "../support/identity-fixtures.js";
import { covenControlClient, ThirdPartyAgentStream } from "../support/proto-client.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const ADMIN = { id: "admin-user-1", username: "alice" };
const FP = "ab".repeat(32);

/** A wall clock that tests can push forward. */
function shiftableClock(): Clock & { advance(ms: number): void } {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}

interface PairingGateway extends TestGateway {
  clock: ReturnType<typeof shiftableClock>;
  logLines: string[];
  mintToken(): Promise<string>;
  pair(body: unknown, headers?: Record<string, string>): Promise<{ status: number; type: string | null; text: string }>;
}

async function gateway(options: AuthGatewayOptions = {}): Promise<PairingGateway> {
  const clock = shiftableClock();
  const logLines: string[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (line) => logLines.push(line) });
  const gw = await startAuthGateway({ clock, log, ...options });
  cleanups.push(() => gw.stop());
  const db = gw.gateway.store.db;
  await db
    .insertInto("admin_users")
    .values({ id: ADMIN.id, username: ADMIN.username, password_hash: null, display_name: "Alice", created_at: new Date().toISOString() })
    .execute();
  return {
    ...gw,
    clock,
    logLines,
    async mintToken() {
      const { url } = await gw.gateway.domain.pairing.mint(ADMIN);
      return new URL(url.replace(/^coven:/, "http:")).searchParams.get("token")!;
    },
    async pair(body, headers = {}) {
      const res = await fetch(`${gw.httpUrl}/api/link/pair`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
    },
  };
}

const refusedWith = (reason: string) => ({ status: 401, type: "application/json", text: `${JSON.stringify({ error: reason })}\n` });

describe("POST /api/link/pair", () => {
  it("answers every rejection 401 JSON with its reason, checked in the contract's order", async () => {
    const gw = await gateway();
    const used = await gw.mintToken();
    expect((await gw.pair({ token: used, fingerprint: FP, device_name: "first" })).status).toBe(200);
    const stale = await gw.mintToken();
    const cases: Array<[unknown, string]> = [
      ["{not json", "invalid request: body"],
      [[1, 2], "invalid request: body"],
      [{ token: 7, fingerprint: FP, device_name: "d" }, "invalid request: body"],
      [{ token: "", fingerprint: "short", device_name: "" }, "invalid request: token"],
      [{ fingerprint: FP, device_name: "d" }, "invalid request: token"],
      [{ token: "x", fingerprint: "short", device_name: "" }, "invalid request: fingerprint"],
      [{ token: "x", fingerprint: `${FP}0`, device_name: "d" }, "invalid request: fingerprint"],
      [{ token: "x", fingerprint: FP, device_name: "" }, "invalid request: device_name"],
      [{ token: "x", fingerprint: FP, device_name: "n".repeat(101) }, "invalid request: device_name"],
      [{ token: "x", fingerprint: FP, device_name: "n".repeat(100) }, "invalid token"],
      [{ token: used, fingerprint: FP, device_name: "again" }, "token already used"],
    ];
    for (const [i, [body, reason]] of cases.entries()) {
      // Four failures per minute stay under the limit of five, so each case shows its own reason.
      if (i % 4 === 0) gw.clock.advance(61_000);
      expect([i, await gw.pair(body)]).toEqual([i, refusedWith(reason)]);
    }
    gw.clock.advance(5 * 60_000);
    expect(await gw.pair({ token: stale, fingerprint: FP, device_name: "late" })).toEqual(refusedWith("token expired"));
    expect(await gw.pair({ token: stale, fingerprint: FP, device_name: "late" })).toEqual(refusedWith("invalid token"));
    const get = await fetch(`${gw.httpUrl}/api/link/pair`);
    expect(get.status).toBe(405);
  });

  it("refuses an address with 5 failures in the last minute (valid token included) until they age out", async () => {
    const gw = await gateway();
    const token = await gw.mintToken();
    for (let i = 0; i < 5; i += 1) expect(await gw.pair({ token: "nope", fingerprint: FP, device_name: "d" })).toEqual(refusedWith("invalid token"));
    gw.clock.advance(30_000);
    expect(await gw.pair({ token, fingerprint: FP, device_name: "d" })).toEqual(refusedWith("too many attempts"));
    expect(await gw.pair("{")).toEqual(refusedWith("too many attempts"));
    // The refusals at +30 s did not count: at +61 s the window is empty again.
    gw.clock.advance(31_000);
    const ok = await gw.pair({ token, fingerprint: FP, device_name: "d" });
    expect(ok.status).toBe(200);
  });

  it("lets exactly one of 20 concurrent enrollments with one token win", async () => {
    const gw = await gateway({ mutate: (config) => ({ ...config, server: { ...config.server, trustProxy: true } }) });
    const token = await gw.mintToken();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gw.pair({ token, fingerprint: i.toString(16).padStart(2, "0").repeat(32), device_name: `racer ${i}` }, { "x-forwarded-for": `10.1.0.${i}` }),
      ),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => r.status !== 200)) expect(loser).toEqual(refusedWith("token already used"));
    const db = gw.gateway.store.db;
    const enrolled = await db.selectFrom("principals").select("principal_id").where("display_name", "like", "racer %").execute();
    expect(enrolled).toHaveLength(1);
    expect(JSON.parse(winners[0]!.text)).toEqual({ principal_id: enrolled[0]!.principal_id });
  });

  it("creates an approved member client named after the device, records it on the token, audits pair_enroll", async () => {
    const gw = await gateway();
    const db = gw.gateway.store.db;
    const token = await gw.mintToken();
    const res = await gw.pair({ token, fingerprint: FP.toUpperCase(), device_name: "Harper's iPhone", extra: "ignored" });
    expect([res.status, res.type]).toEqual([200, "application/json"]);
    const { principal_id: id } = JSON.parse(res.text) as { principal_id: string };
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await createPrincipalRepository(db).findById(id)).toMatchObject({
      type: "client",
      displayName: "Harper's iPhone",
      status: "approved",
      pubkeyFingerprint: FP,
    });
    expect(await createRoleRepository(db).rolesOf(id)).toEqual(["member"]);
    const row = await db.selectFrom("pair_tokens").selectAll().executeTakeFirstOrThrow();
    expect(row.principal_id).toBe(id);
    expect(row.used_at).not.toBeNull();
    const audit = await db.selectFrom("audit_log").selectAll().orderBy("ts").orderBy("action").execute();
    expect(audit.map((a) => [a.action, a.actor_principal_id, a.target_type, a.target_id, JSON.parse(a.detail_json ?? "null")])).toEqual([
      ["mint_pair_token", `webadmin:${ADMIN.id}`, "pair_token", row.id, { username: "alice", expires_at: row.expires_at }],
      ["create_principal", `webadmin:${ADMIN.id}`, "principal", id, { type: "client", display_name: "Harper's iPhone", roles: ["member"], pair_token_id: row.id }],
      ["pair_enroll", id, "principal", id, { device_name: "Harper's iPhone", pair_token_id: row.id, reused_principal: false }],
    ]);
  });

  it("reuses the principal that already holds the fingerprint", async () => {
    const gw = await gateway();
    const db = gw.gateway.store.db;
    const existing = await seedPrincipal(db, { type: "agent", fingerprint: FP, displayName: "old name" });
    const res = await gw.pair({ token: await gw.mintToken(), fingerprint: FP, device_name: "new name" });
    expect(JSON.parse(res.text)).toEqual({ principal_id: existing });
    expect(await db.selectFrom("principals").select("principal_id").where("principal_id", "!=", "anonymous").execute()).toEqual([
      { principal_id: existing },
    ]);
    const enroll = await db.selectFrom("audit_log").selectAll().where("action", "=", "pair_enroll").executeTakeFirstOrThrow();
    expect(JSON.parse(enroll.detail_json!)).toMatchObject({ device_name: "new name", reused_principal: true });
    expect(await db.selectFrom("audit_log").select("action").where("action", "=", "create_principal").execute()).toEqual([]);
  });

  it("keeps the plaintext token out of the database, the audit log and the logs", async () => {
    const gw = await gateway();
    const db = gw.gateway.store.db;
    const tokens = [await gw.mintToken(), await gw.mintToken(), await gw.mintToken()];
    await gw.pair({ token: tokens[0], fingerprint: FP, device_name: "d" });
    await gw.pair({ token: tokens[0], fingerprint: FP, device_name: "d" });
    await gw.pair({ token: `${tokens[1]}x`, fingerprint: FP, device_name: "d" });
    gw.clock.advance(5 * 60_000);
    await gw.pair({ token: tokens[2], fingerprint: FP, device_name: "d" });
    const dump = JSON.stringify([
      await db.selectFrom("pair_tokens").selectAll().execute(),
      await db.selectFrom("audit_log").selectAll().execute(),
      await db.selectFrom("principals").selectAll().execute(),
    ]);
    const logs = gw.logLines.join("\n");
    expect(logs).toContain("device paired");
    expect(logs).toContain("pair enrollment refused");
    for (const token of tokens) {
      expect(dump).not.toContain(token);
      expect(logs).not.toContain(token);
    }
  });

  it("answers 500 internal error when the store fails after the claim, and the token stays burned", async () => {
    const gw = await gateway();
    const db = gw.gateway.store.db;
    const token = await gw.mintToken();
    await sql`CREATE TRIGGER no_principals BEFORE INSERT ON principals BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`.execute(db);
    expect(await gw.pair({ token, fingerprint: FP, device_name: "d" })).toEqual({ status: 500, type: "application/json", text: '{"error":"internal error"}\n' });
    expect(gw.logLines.some((l) => l.includes("disk on fire"))).toBe(true);
    await sql`DROP TRIGGER no_principals`.execute(db);
    expect(await gw.pair({ token, fingerprint: FP, device_name: "d" })).toEqual(refusedWith("token already used"));
  });

  it("lets the paired device's SSH key open an agent stream through an independent grpc-js client", async () => {
    const gw = await gateway();
    const key = newAgentKey();
    const res = await gw.pair({ token: await gw.mintToken(), fingerprint: fingerprintOf(key), device_name: "mac mini" });
    const { principal_id: principalId } = JSON.parse(res.text) as { principal_id: string };
    const client = covenControlClient(gw.grpcAddr);
    const stream = new ThirdPartyAgentStream(client, sshMetadata(key));
    cleanups.push(() => {
      stream.cancel();
      client.close();
    });
    stream.register("paired-agent");
    const welcome = (await stream.next("welcome")).welcome as { principal_id: string; agent_id: string };
    expect(welcome).toMatchObject({ principal_id: principalId, agent_id: "paired-agent" });
  });
});
