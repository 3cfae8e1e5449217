// ABOUTME: `coven-admin invite create` writes an invite and its audit row into the gateway's own database file
// ABOUTME: (--db, COVEN_DB_PATH, the config's database.path) and prints `<base>/invite/<64 hex>` by the CLI's URL order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { main } from "../../cmd/coven-admin/main.js";
import type { CliIo } from "../../cmd/coven-gateway/cli-io.js";
import { silentLogger } from "../../src/lib/logger.js";
import { openDatabase } from "../../src/store/database.js";
import { createInviteRepository } from "../../src/store/invite-repository.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { startTestGateway } from "../support/gateway-harness.js";
import { auditOf } from "../support/identity-fixtures.js";

let gw: TestGateway;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "coven-invite-"));
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function admin(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const io: CliIo = { env: { HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), XDG_DATA_HOME: join(dir, "data"), ...extra }, stdout, stderr };
  const code = await main(args, io);
  return { code, out, err };
}

const LINK = /\n {2}Invite URL:\n\n {2}(\S+)\/invite\/([0-9a-f]{64})\n\n {2}Expires: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \((\d+) hours\)\n\n$/;

describe("invite create", () => {
  it("writes into the running gateway's database (COVEN_DB_PATH) with an audit row, while it runs", async () => {
    const r = await admin(["invite", "create", "--ttl", "3"], { COVEN_DB_PATH: gw.dbPath });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.startsWith("\n  Admin invite created!\n")).toBe(true);
    const m = LINK.exec(r.out)!;
    expect(m[1]).toBe("http://localhost:8080");
    expect(m[4]).toBe("3");
    expect(Math.abs(Date.parse(m[3]!) - (Date.now() + 3 * 3_600_000))).toBeLessThan(60_000);
    const invite = await createInviteRepository(gw.gateway.store.db).find(m[2]!);
    expect(invite).toMatchObject({ createdBy: undefined, usedAt: undefined });
    const audit = await auditOf(gw.gateway.store.db, m[2]!);
    expect(audit.map((a) => [a.action, a.actor])).toEqual([["create_invite", "cli"]]);
  });

  it("`invite` alone means create; --db wins; the URL comes from --url, then COVEN_GATEWAY_URL, then http://$COVEN_GATEWAY_HOST", async () => {
    const db = join(dir, "other.db");
    const viaFlag = LINK.exec((await admin(["invite", "-d", db, "-u", "https://a.example/", "-t", "1"], { COVEN_GATEWAY_URL: "https://b.example" })).out)!;
    expect(viaFlag[1]).toBe("https://a.example");
    expect(LINK.exec((await admin(["invite", "--db", db], { COVEN_GATEWAY_URL: "https://b.example/", COVEN_GATEWAY_HOST: "c" })).out)![1]).toBe("https://b.example");
    const viaHost = LINK.exec((await admin(["invite", "--db", db], { COVEN_GATEWAY_HOST: "gw.lan" })).out)!;
    expect(viaHost[1]).toBe("http://gw.lan");
    expect(viaHost[4]).toBe("24");
    const store = await openDatabase({ path: db, log: silentLogger });
    try {
      expect(await createInviteRepository(store.db).find(viaHost[2]!)).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it("uses the config file's database.path (after ${VAR} expansion) and webadmin.base_url", async () => {
    const cfg = mkdtempSync(join(dir, "cfg-"));
    const configPath = join(cfg, "gateway.yaml");
    writeFileSync(configPath, 'database:\n  path: "${INVITE_DIR}/from-config.db"\nwebadmin:\n  base_url: "https://admin.example/"\n');
    const r = await admin(["invite", "create"], { COVEN_CONFIG: configPath, INVITE_DIR: cfg });
    expect(r.err).toBe("");
    const m = LINK.exec(r.out)!;
    expect(m[1]).toBe("https://admin.example");
    const store = await openDatabase({ path: join(cfg, "from-config.db"), log: silentLogger });
    try {
      expect(await createInviteRepository(store.db).find(m[2]!)).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it("rejects another subcommand and a bad TTL", async () => {
    expect(await admin(["invite", "list"])).toEqual({ code: 1, out: "", err: "Error: unknown invite subcommand: list (use create)\n" });
    const bad = await admin(["invite", "create", "--ttl", "soon"], { COVEN_DB_PATH: gw.dbPath });
    expect(bad).toEqual({ code: 1, out: "", err: 'Error: invalid ttl: "soon" is not a positive whole number of hours\n' });
  });
});
