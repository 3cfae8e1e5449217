// ABOUTME: GatewayService Get/SetMaintenance (ops.md §5) over loopback gRPC with auth on, through a proto-loader client
// ABOUTME: of the .proto and through coven-admin's connect client, plus `coven-admin maintenance` run in-process.
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients, resolveConnection } from "../../cmd/coven-admin/connection.js";
import { main } from "../../cmd/coven-admin/main.js";
import type { CliIo } from "../../cmd/coven-gateway/cli-io.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";

const PROTO_DIR = fileURLToPath(new URL("../../proto/", import.meta.url));
type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
type Outcome = { ok: true; response: Record<string, unknown> } | { ok: false; code: grpc.status; details: string };

let gw: TestGateway;
let dir: string;
let adminToken: string;
let adminId: string;
let memberToken: string;
let peer: Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "maintenance-rpc-"));
  gw = await startAuthGateway({ lockout: { exemptLoopback: true } });
  adminId = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
  adminToken = await tokenFor(adminId);
  memberToken = await tokenFor(await seedPrincipal(gw.gateway.store.db, { roles: ["member"] }));
  const definition = protoLoader.loadSync("coven/gateway/v1/gateway.proto", { includeDirs: [PROTO_DIR], keepCase: true, defaults: true, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    coven: { gateway: { v1: { GatewayService: new (addr: string, creds: grpc.ChannelCredentials) => Client } } };
  };
  peer = new loaded.coven.gateway.v1.GatewayService(gw.grpcAddr, grpc.credentials.createInsecure());
});

afterAll(async () => {
  peer.close();
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await gw.gateway.domain.ops.maintenance.set({ enabled: false, actor: "system" });
});

function call(method: string, request: object, token: string | undefined): Promise<Outcome> {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  return new Promise((resolve) => {
    const fn = peer[method] as (r: object, m: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void;
    fn.call(peer, request, metadata, (err, response) => resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, response }));
  });
}

async function admin(args: string[], token: string | undefined): Promise<{ code: number; out: string; err: string }> {
  const stdout = Object.assign(new PassThrough(), { isTTY: false });
  const stderr = Object.assign(new PassThrough(), { isTTY: false });
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const env: NodeJS.ProcessEnv = { HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), COVEN_GATEWAY_GRPC: gw.grpcAddr };
  if (token !== undefined) env.COVEN_TOKEN = token;
  const io: CliIo = { env, stdout, stderr };
  const code = await main(args, io);
  return { code, out, err };
}

const stateOf = (o: Outcome) => {
  if (!o.ok) throw new Error(`call failed: ${o.code} ${o.details}`);
  return { enabled: o.response.enabled, message: o.response.message, since: o.response.since };
};

describe("GetMaintenance / SetMaintenance through a proto-loader client", () => {
  it("needs authentication to read, admin or owner to set, limits the message, and audits every set", async () => {
    expect(await call("GetMaintenance", {}, undefined)).toMatchObject({ ok: false, code: grpc.status.UNAUTHENTICATED });
    expect(stateOf(await call("GetMaintenance", {}, memberToken))).toEqual({ enabled: false, message: "", since: undefined });
    expect(await call("SetMaintenance", { enabled: true }, memberToken)).toEqual({ ok: false, code: grpc.status.PERMISSION_DENIED, details: "admin role required" });
    expect(await call("SetMaintenance", { enabled: true, message: "x".repeat(201) }, adminToken)).toEqual({
      ok: false,
      code: grpc.status.INVALID_ARGUMENT,
      details: "message exceeds 200 characters",
    });

    const on = stateOf(await call("SetMaintenance", { enabled: true }, adminToken));
    expect(on).toMatchObject({ enabled: true, message: "the gateway is in maintenance" });
    expect(Number.isNaN(Date.parse(on.since as string))).toBe(false);
    const replaced = stateOf(await call("SetMaintenance", { enabled: true, message: "moving racks" }, adminToken));
    expect(replaced).toEqual({ enabled: true, message: "moving racks", since: on.since });
    expect(stateOf(await call("GetMaintenance", {}, memberToken))).toEqual(replaced);
    // The same switch as HTTP's: the route reads what the RPC set.
    const http = await fetch(`${gw.httpUrl}/api/admin/maintenance`, { headers: { authorization: `Bearer ${memberToken}` } });
    expect(await http.json()).toEqual({ enabled: true, message: "moving racks", since: on.since });

    expect(stateOf(await call("SetMaintenance", { enabled: false, message: "ignored" }, adminToken))).toEqual({ enabled: false, message: "", since: undefined });
    const audit = await createAuditRepository(gw.gateway.store.db).list({ action: "set_maintenance", limit: 10 });
    expect(audit.filter((a) => a.actor === adminId).map((a) => a.detailJson)).toEqual([
      '{"enabled":false,"message":""}',
      '{"enabled":true,"message":"moving racks"}',
      '{"enabled":true,"message":"the gateway is in maintenance"}',
    ]);
  });
});

describe("GetMaintenance / SetMaintenance through coven-admin's connect client", () => {
  it("round-trips the state and maps refusals to connect codes", async () => {
    const clients = createClients(resolveConnection({ COVEN_GATEWAY_GRPC: gw.grpcAddr, COVEN_TOKEN: adminToken, HOME: dir }));
    const member = createClients(resolveConnection({ COVEN_GATEWAY_GRPC: gw.grpcAddr, COVEN_TOKEN: memberToken, HOME: dir }));
    try {
      const on = await clients.gateway.setMaintenance({ enabled: true, message: "upgrading" });
      expect([on.enabled, on.message, typeof on.since]).toEqual([true, "upgrading", "string"]);
      const read = await member.gateway.getMaintenance({});
      expect([read.enabled, read.message, read.since]).toEqual([true, "upgrading", on.since]);
      await expect(member.gateway.setMaintenance({ enabled: false })).rejects.toMatchObject({ rawMessage: "admin role required", code: 7 });
      const off = await clients.gateway.setMaintenance({ enabled: false });
      expect([off.enabled, off.message, off.since]).toEqual([false, "", undefined]);
    } finally {
      clients.close();
      member.close();
    }
  });
});

describe("coven-admin maintenance", () => {
  it("on [--message], status and off print their lines; a member is refused; unknown subcommands are named", async () => {
    expect(await admin(["maintenance", "status"], memberToken)).toEqual({ code: 0, out: "  Maintenance: off\n", err: "" });
    expect(await admin(["maintenance", "on"], adminToken)).toEqual({ code: 0, out: "✓ Maintenance on: the gateway is in maintenance\n", err: "" });
    expect(await admin(["maintenance", "on", "--message", "disk swap"], adminToken)).toEqual({ code: 0, out: "✓ Maintenance on: disk swap\n", err: "" });
    const since = gw.gateway.domain.ops.maintenance.state().since;
    expect(await admin(["maintenance", "status"], memberToken)).toEqual({ code: 0, out: `  Maintenance: on since ${since} (disk swap)\n`, err: "" });

    const denied = await admin(["maintenance", "off"], memberToken);
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/^Error: SetMaintenance: PERMISSION_DENIED: admin role required \(token from \$COVEN_TOKEN\)\nhint: /);
    expect(gw.gateway.domain.ops.maintenance.isOn).toBe(true);

    expect(await admin(["maintenance", "off"], adminToken)).toEqual({ code: 0, out: "✓ Maintenance off\n", err: "" });
    expect(await admin(["maintenance", "drain"], adminToken)).toEqual({ code: 1, out: "", err: "Error: unknown maintenance subcommand: drain (use on, off, status)\n" });
    const help = await admin(["maintenance", "on", "--help"], undefined);
    expect([help.code, help.out.split("\n")[0]]).toEqual([0, "Usage: coven-admin maintenance on [--message <text>]"]);
  });
});
