// ABOUTME: AdminService principal/token RPCs through a real gateway and an independent grpc-js client:
// ABOUTME: the JWT and admin gates, each RPC's checks in order with exact codes/messages, and the audit rows.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { SignJWT } from "jose";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import {
  auditOf,
  fingerprintOf,
  newAgentKey,
  seedPrincipal,
  startAuthGateway,
  TEST_JWT_SECRET,
  tokenFor,
} from "../support/identity-fixtures.js";
import { adminServiceClient, bearerMetadata, callUnary, clientServiceClient } from "../support/proto-client.js";
import { sshPublicKeyLine } from "../../cmd/fake-agent/ssh-signer.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface AdminHarness {
  gw: TestGateway;
  call: (method: string, request: object, token?: string) => ReturnType<typeof callUnary>;
  adminId: string;
  adminToken: string;
}

async function harness(authOn = true): Promise<AdminHarness> {
  const gw = authOn ? await startAuthGateway() : await startTestGateway();
  const client = adminServiceClient(gw.grpcAddr);
  cleanups.push(() => gw.stop());
  cleanups.push(() => client.close());
  const adminId = authOn ? await seedPrincipal(gw.gateway.store.db, { roles: ["admin"], displayName: "the-admin" }) : "anonymous";
  const adminToken = authOn ? await tokenFor(adminId) : "";
  return {
    gw,
    adminId,
    adminToken,
    call: (method, request, token = adminToken) => callUnary(client, method, request, authOn ? bearerMetadata(token) : undefined),
  };
}

const denied = (code: grpc.status, details: string) => ({ ok: false, code, details });

describe("AdminService JWT and admin gates", () => {
  it("refuses missing, malformed, invalid, expired and orphaned tokens with UNAUTHENTICATED", async () => {
    const h = await harness();
    const client = adminServiceClient(h.gw.grpcAddr);
    cleanups.push(() => client.close());
    const list = (metadata: grpc.Metadata) => callUnary(client, "ListPrincipals", {}, metadata);
    expect(await list(new grpc.Metadata())).toEqual(denied(grpc.status.UNAUTHENTICATED, "missing authorization header"));
    const basic = new grpc.Metadata();
    basic.set("authorization", `bearer ${h.adminToken}`);
    expect(await list(basic)).toEqual(denied(grpc.status.UNAUTHENTICATED, "invalid authorization header format"));
    expect(await list(bearerMetadata("garbage"))).toEqual(denied(grpc.status.UNAUTHENTICATED, "invalid or expired token"));
    const past = Math.floor(Date.now() / 1000) - 10;
    const expired = await new SignJWT({ sub: h.adminId, iat: past - 60, exp: past })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    expect(await list(bearerMetadata(expired))).toEqual(denied(grpc.status.UNAUTHENTICATED, "invalid or expired token"));
    expect(await list(bearerMetadata(await tokenFor("no-such-principal")))).toEqual(
      denied(grpc.status.UNAUTHENTICATED, "principal not found"),
    );
  });

  it("lets admin and owner in and refuses a member (also on methods served by other handler sets)", async () => {
    const h = await harness();
    const owner = await seedPrincipal(h.gw.gateway.store.db, { roles: ["owner"] });
    const member = await seedPrincipal(h.gw.gateway.store.db, { roles: ["member"] });
    expect((await h.call("ListPrincipals", {})).ok).toBe(true);
    expect((await h.call("ListPrincipals", {}, await tokenFor(owner))).ok).toBe(true);
    const memberToken = await tokenFor(member);
    for (const method of ["ListPrincipals", "CreateToken", "CreatePrincipal", "DeletePrincipal", "ListBindings"]) {
      expect(await h.call(method, {}, memberToken)).toEqual(denied(grpc.status.PERMISSION_DENIED, "admin role required"));
    }
  });
});

describe("AdminService.CreateToken", () => {
  it("checks principal_id, existence, status and ttl in order", async () => {
    const h = await harness();
    const pending = await seedPrincipal(h.gw.gateway.store.db, { status: "pending" });
    expect(await h.call("CreateToken", { principal_id: "", ttl_seconds: 99_999_999 })).toEqual(
      denied(grpc.status.INVALID_ARGUMENT, "principal_id required"),
    );
    expect(await h.call("CreateToken", { principal_id: "ghost", ttl_seconds: 99_999_999 })).toEqual(
      denied(grpc.status.NOT_FOUND, "principal not found"),
    );
    expect(await h.call("CreateToken", { principal_id: pending, ttl_seconds: 99_999_999 })).toEqual(
      denied(grpc.status.FAILED_PRECONDITION, "principal status is pending, must be approved"),
    );
    expect(await h.call("CreateToken", { principal_id: h.adminId, ttl_seconds: 31_536_001 })).toEqual(
      denied(grpc.status.INVALID_ARGUMENT, "ttl_seconds exceeds maximum of 31536000"),
    );
  });

  it("mints a usable token for approved/online/offline principals and audits create_token", async () => {
    const h = await harness();
    const target = await seedPrincipal(h.gw.gateway.store.db, { status: "offline", roles: ["member"] });
    const before = Date.now();
    const result = await h.call("CreateToken", { principal_id: target, ttl_seconds: 3600 });
    if (!result.ok) throw new Error(result.details);
    const { token, expires_at } = result.response as { token: string; expires_at: string };
    expect(expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(expires_at) - before).toBeGreaterThan(3_598_000);
    expect(Date.parse(expires_at) - before).toBeLessThan(3_602_000);
    const me = clientServiceClient(h.gw.grpcAddr);
    cleanups.push(() => me.close());
    expect((await callUnary(me, "GetMe", {}, bearerMetadata(token))).response).toMatchObject({ principal_id: target });
    const [audit] = await auditOf(h.gw.gateway.store.db, target);
    expect(audit).toMatchObject({ action: "create_token", actor: h.adminId, targetType: "principal" });
    expect(JSON.parse(audit!.detailJson!)).toEqual({ ttl_seconds: 3600, expires_at });

    await createPrincipalRepository(h.gw.gateway.store.db).markOnline(target, new Date().toISOString());
    const defaulted = await h.call("CreateToken", { principal_id: target, ttl_seconds: 0 });
    const days = (Date.parse((defaulted.response as { expires_at: string }).expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeCloseTo(30, 1);
  });

  it("refuses the anonymous principal once auth is on (its row was revoked at startup)", async () => {
    const noAuth = await startTestGateway();
    cleanups.push(() => noAuth.stop());
    await noAuth.gateway.stop();
    const gw = await startAuthGateway({ dir: noAuth.dir });
    cleanups.push(() => gw.stop());
    const admin = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const client = adminServiceClient(gw.grpcAddr);
    cleanups.push(() => client.close());
    expect(await callUnary(client, "CreateToken", { principal_id: "anonymous" }, bearerMetadata(await tokenFor(admin)))).toEqual(
      denied(grpc.status.FAILED_PRECONDITION, "principal status is revoked, must be approved"),
    );
  });

  it("in no-auth mode answers FAILED_PRECONDITION after the principal_id check", async () => {
    const h = await harness(false);
    expect(await h.call("CreateToken", { principal_id: "" })).toEqual(denied(grpc.status.INVALID_ARGUMENT, "principal_id required"));
    expect(await h.call("CreateToken", { principal_id: "anonymous" })).toEqual(
      denied(grpc.status.FAILED_PRECONDITION, "token generation not configured (no jwt_secret)"),
    );
  });
});

describe("AdminService.ListPrincipals", () => {
  it("lists every principal newest first with roles, unset pubkey_fp for key-less ones, and exact filters", async () => {
    const h = await harness(false);
    const key = newAgentKey();
    const agent = await h.call("CreatePrincipal", { type: "agent", display_name: "a1", pubkey: sshPublicKeyLine(key), roles: ["member"] });
    const client = await h.call("CreatePrincipal", { type: "client", display_name: "c1" });
    const all = (await h.call("ListPrincipals", {})).response as { principals: Array<Record<string, unknown>> };
    expect(all.principals.map((p) => p.display_name)).toEqual(["c1", "a1", "anonymous"]);
    expect(all.principals[1]).toMatchObject({ type: "agent", status: "approved", pubkey_fp: fingerprintOf(key), roles: ["member"] });
    expect(all.principals[0]).not.toHaveProperty("pubkey_fp");
    expect(all.principals[2]).toMatchObject({ id: "anonymous", roles: ["admin"] });
    const agents = (await h.call("ListPrincipals", { type: "agent" })).response as { principals: Array<{ id: string }> };
    expect(agents.principals.map((p) => p.id)).toEqual([(agent.response as { id: string }).id]);
    const none = (await h.call("ListPrincipals", { type: "", status: "approved" })).response as { principals: unknown[] };
    expect(none.principals).toEqual([]);
    const unknown = (await h.call("ListPrincipals", { status: "bogus" })).response as { principals: unknown[] };
    expect(unknown.principals).toEqual([]);
    expect(client.ok).toBe(true);
  });
});

describe("AdminService.CreatePrincipal", () => {
  it("validates type, display_name, type value, pubkey, pubkey_fp and the agent key requirement in order", async () => {
    const h = await harness();
    const cases: Array<[object, grpc.status, string]> = [
      [{ type: "", display_name: "" }, grpc.status.INVALID_ARGUMENT, "type required"],
      [{ type: "robot", display_name: "" }, grpc.status.INVALID_ARGUMENT, "display_name required"],
      [{ type: "robot", display_name: "x" }, grpc.status.INVALID_ARGUMENT, "invalid type: robot (use 'client' or 'agent')"],
      [{ type: "agent", display_name: "x", pubkey: "ssh-ed25519 !!!", pubkey_fp: "a".repeat(64) }, grpc.status.INVALID_ARGUMENT, ""],
      [{ type: "agent", display_name: "x", pubkey_fp: "abc" }, grpc.status.INVALID_ARGUMENT, "invalid pubkey_fp: must be 64 hex characters (SHA256)"],
      [{ type: "agent", display_name: "x", pubkey_fp: "g".repeat(64) }, grpc.status.INVALID_ARGUMENT, "invalid pubkey_fp: must be 64 hex characters (SHA256)"],
      [{ type: "agent", display_name: "x" }, grpc.status.INVALID_ARGUMENT, "agent principals require pubkey or pubkey_fp"],
    ];
    for (const [request, code, details] of cases) {
      const result = await h.call("CreatePrincipal", request);
      expect(result.code).toBe(code);
      if (details === "") expect(result.ok ? "" : result.details).toMatch(/^invalid pubkey: .+/);
      else expect(result).toEqual(denied(code, details));
    }
    expect(await createPrincipalRepository(h.gw.gateway.store.db).countExcludingAnonymous()).toBe(1);
  });

  it("creates an approved agent with a lowercased fingerprint, valid roles only, and audits the request", async () => {
    const h = await harness();
    const fp = "ABCDEF0123456789".repeat(4);
    const result = await h.call("CreatePrincipal", {
      type: "agent",
      display_name: "builder",
      pubkey_fp: fp,
      roles: ["member", "bogus", "member", "leader"],
    });
    if (!result.ok) throw new Error(result.details);
    const created = result.response as { id: string; roles: string[]; pubkey_fp: string; status: string; created_at: string };
    expect(created.id).toMatch(/^agent-[0-9a-z]+-[0-9a-f]{4}$/);
    expect(created).toMatchObject({ status: "approved", pubkey_fp: fp.toLowerCase(), roles: ["member", "leader"] });
    expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await createRoleRepository(h.gw.gateway.store.db).rolesOf(created.id)).toEqual(["leader", "member"]);
    const [audit] = await auditOf(h.gw.gateway.store.db, created.id);
    expect(audit).toMatchObject({ action: "create_principal", actor: h.adminId });
    expect(JSON.parse(audit!.detailJson!)).toEqual({ type: "agent", display_name: "builder", roles: ["member", "bogus", "member", "leader"] });

    expect(await h.call("CreatePrincipal", { type: "agent", display_name: "dup", pubkey_fp: fp.toLowerCase() })).toEqual(
      denied(grpc.status.ALREADY_EXISTS, "pubkey already registered to another principal"),
    );
  });

  it("creates clients without a key even when pubkey_fp is given, any number of them", async () => {
    const h = await harness();
    for (const name of ["c1", "c2"]) {
      const result = await h.call("CreatePrincipal", { type: "client", display_name: name, pubkey_fp: "a".repeat(64) });
      expect(result.ok).toBe(true);
      expect(result.ok && result.response).not.toHaveProperty("pubkey_fp");
      expect((result.response as { id: string }).id).toMatch(/^client-[0-9a-z]+-[0-9a-f]{4}$/);
    }
  });
});

describe("AdminService.DeletePrincipal", () => {
  it("checks id, anonymous and existence; deletes row and roles with a delete_principal audit", async () => {
    const h = await harness(false);
    expect(await h.call("DeletePrincipal", { id: "" })).toEqual(denied(grpc.status.INVALID_ARGUMENT, "id required"));
    expect(await h.call("DeletePrincipal", { id: "anonymous" })).toEqual(
      denied(grpc.status.FAILED_PRECONDITION, "cannot delete the anonymous principal"),
    );
    expect(await h.call("DeletePrincipal", { id: "ghost" })).toEqual(denied(grpc.status.NOT_FOUND, "principal not found"));
    const created = (await h.call("CreatePrincipal", { type: "client", display_name: "gone", roles: ["member"] })).response as { id: string };
    expect(await h.call("DeletePrincipal", { id: created.id })).toMatchObject({ ok: true, response: {} });
    const db = h.gw.gateway.store.db;
    expect(await createPrincipalRepository(db).findById(created.id)).toBeUndefined();
    expect(await createRoleRepository(db).rolesOf(created.id)).toEqual([]);
    const [audit] = await auditOf(db, created.id);
    expect(audit).toMatchObject({ action: "delete_principal", actor: "anonymous", targetType: "principal", targetId: created.id });
  });
});
