// ABOUTME: Agent authentication through the whole gateway with auth on, driven by an independent grpc-js client:
// ABOUTME: SSH signatures in every auto-registration mode and failure, JWT agents, revocation, presence, secrets.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { createManualClock } from "../store/temp-database.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import { createSecretRepository } from "../../src/store/secret-repository.js";
import type { TestGateway } from "../support/gateway-harness.js";
import {
  bearerMetadata,
  callUnary,
  clientServiceClient,
  covenControlClient,
  adminServiceClient,
  ThirdPartyAgentStream,
} from "../support/proto-client.js";
import {
  auditOf,
  eventually,
  fingerprintOf,
  newAgentKey,
  seedPrincipal,
  sshMetadata,
  startAuthGateway,
  tokenFor,
  type AuthGatewayOptions,
} from "../support/identity-fixtures.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function gateway(options: AuthGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startAuthGateway(options);
  cleanups.push(() => gw.stop());
  return gw;
}

function openAgent(gw: TestGateway, metadata: grpc.Metadata): ThirdPartyAgentStream {
  const client = covenControlClient(gw.grpcAddr);
  const stream = new ThirdPartyAgentStream(client, metadata);
  cleanups.push(() => {
    stream.cancel();
    client.close();
  });
  return stream;
}

/** Opens an agent stream that must be refused; returns its status. */
async function refused(gw: TestGateway, metadata: grpc.Metadata): Promise<grpc.StatusObject> {
  const stream = openAgent(gw, metadata);
  stream.register("refused-agent");
  const status = await stream.status;
  expect(stream.received).toEqual([]);
  return status;
}

async function welcomed(gw: TestGateway, metadata: grpc.Metadata, agentId = "agent-1", extra: Record<string, unknown> = {}) {
  const stream = openAgent(gw, metadata);
  stream.register(agentId, extra);
  const frame = await stream.next("welcome");
  return { stream, welcome: frame.welcome as { principal_id: string; agent_id: string; secrets: Record<string, string> } };
}

describe("SSH agent auth, auto-registration disabled (default)", () => {
  it("admits a known ed25519 key and a known RSA key (rsa-sha2-256) as their principals", async () => {
    const gw = await gateway();
    for (const kind of ["ed25519", "rsa"] as const) {
      const key = newAgentKey(kind);
      const id = await seedPrincipal(gw.gateway.store.db, { type: "agent", fingerprint: fingerprintOf(key) });
      const { welcome } = await welcomed(gw, sshMetadata(key), `agent-${kind}`);
      expect(welcome.principal_id).toBe(id);
    }
  });

  it("refuses an unknown key with UNAUTHENTICATED 'unknown public key' and stores nothing", async () => {
    const gw = await gateway();
    const status = await refused(gw, sshMetadata(newAgentKey()));
    expect(status).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: "unknown public key" });
    expect(await createPrincipalRepository(gw.gateway.store.db).countExcludingAnonymous()).toBe(0);
  });

  it("refuses a replayed nonce, an expired or future timestamp and a signature by another key", async () => {
    const gw = await gateway();
    const key = newAgentKey();
    await seedPrincipal(gw.gateway.store.db, { type: "agent", fingerprint: fingerprintOf(key) });
    const nowMs = Date.now();
    await welcomed(gw, sshMetadata(key, { nowMs, nonce: "00112233445566778899aabbccddeeff" }));
    expect(await refused(gw, sshMetadata(key, { nowMs, nonce: "00112233445566778899aabbccddeeff" }))).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: "SSH auth failed: nonce already used (possible replay attack)",
    });
    const old = await refused(gw, sshMetadata(key, { nowMs: Date.now() - 301_000 }));
    expect(old.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(old.details).toMatch(/^SSH auth failed: signature expired \(age: 5m[0-9.]+s, max: 5m0s\)$/);
    expect(await refused(gw, sshMetadata(key, { nowMs: Date.now() + 120_000 }))).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: "SSH auth failed: timestamp is in the future",
    });
    const other = newAgentKey();
    const forged = sshMetadata(other, { override: { "x-ssh-pubkey": sshMetadata(key).get("x-ssh-pubkey")[0] as string } });
    expect(await refused(gw, forged)).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: "SSH auth failed: signature verification failed: ssh: signature did not verify",
    });
  });

  it("refuses pending and revoked principals with PERMISSION_DENIED", async () => {
    const gw = await gateway();
    const pending = newAgentKey();
    const revoked = newAgentKey();
    await seedPrincipal(gw.gateway.store.db, { type: "agent", status: "pending", fingerprint: fingerprintOf(pending) });
    await seedPrincipal(gw.gateway.store.db, { type: "agent", status: "revoked", fingerprint: fingerprintOf(revoked) });
    expect(await refused(gw, sshMetadata(pending))).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: "principal status is pending - admin approval required",
    });
    expect(await refused(gw, sshMetadata(revoked))).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: "principal has been revoked",
    });
  });
});

describe("SSH agent auth, auto-registration approved / pending", () => {
  it("approved: creates an approved agent principal and proceeds as it", async () => {
    const gw = await gateway({ autoRegistration: "approved" });
    const key = newAgentKey();
    const { welcome } = await welcomed(gw, sshMetadata(key));
    const stored = await createPrincipalRepository(gw.gateway.store.db).findByFingerprint(fingerprintOf(key));
    expect(stored).toMatchObject({ id: welcome.principal_id, type: "agent", displayName: `agent-${fingerprintOf(key).slice(-8)}` });
    expect(welcome.principal_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await createRoleRepository(gw.gateway.store.db).rolesOf(welcome.principal_id)).toEqual([]);
  });

  it("pending: creates a pending principal, refuses with its id, then refuses with the normal pending text", async () => {
    const gw = await gateway({ autoRegistration: "pending" });
    const key = newAgentKey();
    const first = await refused(gw, sshMetadata(key));
    const stored = await createPrincipalRepository(gw.gateway.store.db).findByFingerprint(fingerprintOf(key));
    expect(stored?.status).toBe("pending");
    expect(first).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: `agent registered with pending status (principal_id: ${stored?.id}) - admin approval required`,
    });
    expect(await refused(gw, sshMetadata(key))).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: "principal status is pending - admin approval required",
    });
    await gw.gateway.identity.service.approvePrincipal("test", stored!.id);
    const { welcome } = await welcomed(gw, sshMetadata(key));
    expect(welcome.principal_id).toBe(stored!.id);
  });
});

describe("JWT agents and unauthenticated callers", () => {
  it("admits an agent stream carrying a bearer token and refuses one without credentials", async () => {
    const gw = await gateway();
    const id = await seedPrincipal(gw.gateway.store.db, { type: "agent" });
    const { welcome } = await welcomed(gw, bearerMetadata(await tokenFor(id)));
    expect(welcome.principal_id).toBe(id);
    expect(await refused(gw, new grpc.Metadata())).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: "missing authorization header",
    });
  });
});

describe("revocation and deletion end live agent streams", () => {
  it("revoke: PERMISSION_DENIED 'principal has been revoked', audited, and new streams are refused", async () => {
    const gw = await gateway();
    const key = newAgentKey();
    const id = await seedPrincipal(gw.gateway.store.db, { type: "agent", fingerprint: fingerprintOf(key) });
    const { stream } = await welcomed(gw, sshMetadata(key));
    await gw.gateway.identity.service.revokePrincipal("admin-actor", id);
    expect(await stream.status).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: "principal has been revoked" });
    const [audit] = await auditOf(gw.gateway.store.db, id);
    expect(audit).toMatchObject({ action: "revoke_principal", actor: "admin-actor", targetType: "principal" });
    expect(await refused(gw, sshMetadata(key))).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  });

  it("DeletePrincipal over AdminService: the agent's stream ends UNAUTHENTICATED 'principal not found'", async () => {
    const gw = await gateway();
    const admin = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const key = newAgentKey();
    const id = await seedPrincipal(gw.gateway.store.db, { type: "agent", fingerprint: fingerprintOf(key) });
    const { stream } = await welcomed(gw, sshMetadata(key));
    const client = adminServiceClient(gw.grpcAddr);
    cleanups.push(() => client.close());
    const deleted = await callUnary(client, "DeletePrincipal", { id }, bearerMetadata(await tokenFor(admin)));
    expect(deleted.ok).toBe(true);
    expect(await stream.status).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: "principal not found" });
    expect(await refused(gw, sshMetadata(key))).toMatchObject({ details: "unknown public key" });
  });
});

describe("presence, secrets and the leader role", () => {
  it("marks the principal online with last_seen while a stream is open and offline after the last one ends", async () => {
    const gw = await gateway();
    const key = newAgentKey();
    const id = await seedPrincipal(gw.gateway.store.db, { type: "agent", fingerprint: fingerprintOf(key) });
    const principals = createPrincipalRepository(gw.gateway.store.db);
    const first = await welcomed(gw, sshMetadata(key), "presence-1");
    const second = await welcomed(gw, sshMetadata(key), "presence-2");
    await gw.gateway.identity.presence.flush();
    const online = await principals.findById(id);
    expect(online?.status).toBe("online");
    expect(online?.lastSeen).toBeDefined();
    await first.stream.close();
    await gw.gateway.identity.presence.flush();
    expect((await principals.findById(id))?.status).toBe("online");
    await second.stream.close();
    await eventually(async () => ((await principals.findById(id))?.status === "offline" ? true : undefined));
  });

  it("moves last_seen when a further stream of an online principal registers or ends", async () => {
    const startMs = Date.now();
    const at = (offsetMs: number) => new Date(startMs + offsetMs).toISOString();
    const clock = createManualClock(at(0));
    const gw = await gateway({ clock });
    const key = newAgentKey();
    const id = await seedPrincipal(gw.gateway.store.db, { type: "agent", fingerprint: fingerprintOf(key) });
    const principals = createPrincipalRepository(gw.gateway.store.db);
    const lastSeen = async () => {
      await gw.gateway.identity.presence.flush();
      return (await principals.findById(id))?.lastSeen;
    };
    const first = await welcomed(gw, sshMetadata(key, { nowMs: startMs }), "touch-1");
    expect(await lastSeen()).toBe(at(0));
    // Well inside the once-a-minute frame throttle, so only the stream bookkeeping can move last_seen.
    clock.set(at(10_000));
    const second = await welcomed(gw, sshMetadata(key, { nowMs: startMs + 10_000 }), "touch-2");
    expect(await lastSeen()).toBe(at(10_000));
    clock.set(at(20_000));
    await first.stream.close();
    await eventually(async () => ((await lastSeen()) === at(20_000) ? true : undefined));
    expect((await principals.findById(id))?.status).toBe("online");
    await second.stream.close();
  });

  it("sends the global secrets overlaid by this agent id's secrets in the Welcome", async () => {
    const gw = await gateway();
    const secrets = createSecretRepository(gw.gateway.store.db);
    const now = new Date().toISOString();
    await secrets.insert({ key: "GLOBAL_ONLY", value: "g", createdBy: "cli", now });
    await secrets.insert({ key: "SHARED", value: "global", createdBy: "cli", now });
    await secrets.insert({ key: "SHARED", value: "mine", agentId: "secret-agent", createdBy: "cli", now });
    await secrets.insert({ key: "OTHER", value: "not mine", agentId: "other-agent", createdBy: "cli", now });
    const id = await seedPrincipal(gw.gateway.store.db, { type: "agent" });
    const { welcome } = await welcomed(gw, bearerMetadata(await tokenFor(id)), "secret-agent");
    expect(welcome.secrets).toEqual({ GLOBAL_ONLY: "g", SHARED: "mine" });
  });

  it("grants role leader to a principal registering with capability leader", async () => {
    const gw = await gateway();
    const id = await seedPrincipal(gw.gateway.store.db, { type: "agent" });
    const roles = createRoleRepository(gw.gateway.store.db);
    await welcomed(gw, bearerMetadata(await tokenFor(id)), "plain-agent");
    expect(await roles.rolesOf(id)).toEqual([]);
    await welcomed(gw, bearerMetadata(await tokenFor(id)), "leader-agent", { capabilities: ["chat", "leader"] });
    await eventually(async () => ((await roles.rolesOf(id)).includes("leader") ? true : undefined));
  });
});

describe("brute-force lockout", () => {
  it("locks the address after 10 failures: RESOURCE_EXHAUSTED with a retry hint, even for valid credentials", async () => {
    const gw = await gateway();
    const id = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const client = clientServiceClient(gw.grpcAddr);
    cleanups.push(() => client.close());
    for (let i = 0; i < 10; i += 1) {
      const failed = await callUnary(client, "GetMe", {}, bearerMetadata("not-a-token"));
      expect(failed).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: "invalid or expired token" });
    }
    const locked = await callUnary(client, "GetMe", {}, bearerMetadata(await tokenFor(id)));
    expect(locked.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(locked.ok ? "" : locked.details).toMatch(/^too many failed authentication attempts; retry in (300|299)s$/);
    expect(await refused(gw, sshMetadata(newAgentKey()))).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expect(gw.gateway.identity.lockout.stats().lockouts).toBe(1);
  });

  it("honours auth.lockout.max_failures from the config", async () => {
    const gw = await gateway({ lockout: { maxFailures: 2 } });
    const client = clientServiceClient(gw.grpcAddr);
    cleanups.push(() => client.close());
    await callUnary(client, "GetMe", {});
    await callUnary(client, "GetMe", {});
    expect((await callUnary(client, "GetMe", {})).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });
});
