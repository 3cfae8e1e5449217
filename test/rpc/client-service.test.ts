// ABOUTME: ClientService identity RPCs (GetMe, RegisterAgent, RegisterClient) through a real gateway and an
// ABOUTME: independent client; also checks that no AdminService/ClientService method answers an unauthenticated call.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { auditOf, seedPrincipal, startAuthGateway, tokenFor, type AuthGatewayOptions } from "../support/identity-fixtures.js";
import { adminServiceClient, bearerMetadata, callUnary, clientServiceClient, loadCovenPackage } from "../support/proto-client.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function gateway(authOn = true, options: AuthGatewayOptions = {}): Promise<TestGateway> {
  const gw = authOn ? await startAuthGateway(options) : await startTestGateway();
  cleanups.push(() => gw.stop());
  return gw;
}

function client(gw: TestGateway): ReturnType<typeof clientServiceClient> {
  const c = clientServiceClient(gw.grpcAddr);
  cleanups.push(() => c.close());
  return c;
}

const denied = (code: grpc.status, details: string) => ({ ok: false, code, details });
const FP = "0123456789abcdef".repeat(4);

describe("authentication covers every method", () => {
  it("answers UNAUTHENTICATED 'missing authorization header' on every AdminService and ClientService method", async () => {
    // The lockout would otherwise stop this run of failures after 10 calls.
    const gw = await gateway(true, { lockout: { maxFailures: 0 } });
    const coven = loadCovenPackage();
    for (const [name, make] of [
      ["AdminService", adminServiceClient],
      ["ClientService", clientServiceClient],
    ] as const) {
      const c = make(gw.grpcAddr);
      cleanups.push(() => c.close());
      const methods = (coven[name] as unknown as { service: Record<string, { responseStream: boolean; originalName: string }> }).service;
      for (const [method, definition] of Object.entries(methods)) {
        let status: { code: grpc.status; details?: string };
        if (definition.responseStream) {
          const call = (c[method] as (req: object, md: grpc.Metadata) => grpc.ClientReadableStream<unknown>).call(c, {}, new grpc.Metadata());
          call.on("error", () => {});
          call.on("data", () => {});
          status = await new Promise((resolve) => call.on("status", resolve));
        } else {
          status = await callUnary(c, method, {});
        }
        expect({ method, code: status.code, details: status.details }).toEqual({
          method,
          code: grpc.status.UNAUTHENTICATED,
          details: "missing authorization header",
        });
      }
    }
  });
});

describe("ClientService.GetMe", () => {
  it("returns the caller's stored principal with the roles of the auth context", async () => {
    const gw = await gateway();
    const id = await seedPrincipal(gw.gateway.store.db, { type: "agent", status: "offline", roles: ["member", "leader"], displayName: "me" });
    const result = await callUnary(client(gw), "GetMe", {}, bearerMetadata(await tokenFor(id)));
    expect(result.response).toEqual({ principal_id: id, principal_type: "agent", display_name: "me", status: "offline", roles: ["leader", "member"] });
  });

  it("in no-auth mode returns the stored anonymous principal", async () => {
    const gw = await gateway(false);
    const result = await callUnary(client(gw), "GetMe", {});
    expect(result.response).toEqual({
      principal_id: "anonymous",
      principal_type: "client",
      display_name: "anonymous",
      status: "approved",
      roles: ["admin"],
    });
  });
});

describe("ClientService.RegisterAgent / RegisterClient", () => {
  it("needs member, admin or owner", async () => {
    const gw = await gateway();
    const nobody = await tokenFor(await seedPrincipal(gw.gateway.store.db));
    const c = client(gw);
    const request = { display_name: "x", fingerprint: FP };
    expect(await callUnary(c, "RegisterAgent", request, bearerMetadata(nobody))).toEqual(
      denied(grpc.status.PERMISSION_DENIED, "member role required to register agents"),
    );
    expect(await callUnary(c, "RegisterClient", request, bearerMetadata(nobody))).toEqual(
      denied(grpc.status.PERMISSION_DENIED, "member role required to register clients"),
    );
  });

  it("validates display_name then fingerprint with the exact texts", async () => {
    const gw = await gateway();
    const c = client(gw);
    const cases: Array<[object, string]> = [
      [{ display_name: "", fingerprint: "" }, "display_name required"],
      [{ display_name: " \t ", fingerprint: "" }, "display_name cannot be only whitespace"],
      [{ display_name: "a".repeat(101), fingerprint: "" }, "display_name exceeds 100 characters"],
      [{ display_name: "é".repeat(51), fingerprint: "" }, "display_name exceeds 100 characters"],
      [
        { display_name: "bad/name", fingerprint: "" },
        "display_name contains invalid characters (allowed: alphanumeric, hyphens, underscores, periods, spaces)",
      ],
      [{ display_name: "ok name_1.2-3", fingerprint: "" }, "fingerprint required"],
      [{ display_name: "ok", fingerprint: "abc" }, "fingerprint must be 64 hex characters (SHA256)"],
      [{ display_name: "ok", fingerprint: "z".repeat(64) }, "fingerprint must be valid hex characters"],
    ];
    // Each case uses a fresh caller so the 5-per-minute budget does not interfere.
    for (const [request, details] of cases) {
      const token = await tokenFor(await seedPrincipal(gw.gateway.store.db, { roles: ["member"] }));
      expect(await callUnary(c, "RegisterAgent", request, bearerMetadata(token))).toEqual(denied(grpc.status.INVALID_ARGUMENT, details));
    }
  });

  it("creates an approved principal with role member and a self-registered audit row, lowercasing the fingerprint", async () => {
    const gw = await gateway();
    const caller = await seedPrincipal(gw.gateway.store.db, { roles: ["member"] });
    const token = await tokenFor(caller);
    const c = client(gw);
    const result = await callUnary(c, "RegisterAgent", { display_name: "my agent", fingerprint: FP.toUpperCase() }, bearerMetadata(token));
    const { principal_id, status } = result.response as { principal_id: string; status: string };
    expect(status).toBe("approved");
    expect(principal_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const db = gw.gateway.store.db;
    expect(await createPrincipalRepository(db).findById(principal_id)).toMatchObject({
      type: "agent",
      displayName: "my agent",
      status: "approved",
      pubkeyFingerprint: FP,
    });
    expect(await createRoleRepository(db).rolesOf(principal_id)).toEqual(["member"]);
    const [audit] = await auditOf(db, principal_id);
    expect(audit).toMatchObject({ action: "create_principal", actor: caller });
    expect(JSON.parse(audit!.detailJson!)).toEqual({ type: "agent", display_name: "my agent", roles: ["member"], self_registered: true });

    expect(await callUnary(c, "RegisterClient", { display_name: "again", fingerprint: FP }, bearerMetadata(token))).toEqual(
      denied(grpc.status.ALREADY_EXISTS, "fingerprint already registered"),
    );
    const registered = await callUnary(c, "RegisterClient", { display_name: "cli", fingerprint: "f".repeat(64) }, bearerMetadata(token));
    const clientId = (registered.response as { principal_id: string }).principal_id;
    expect((await createPrincipalRepository(db).findById(clientId))?.type).toBe("client");
  });

  it("allows 5 attempts per minute per caller across both RPCs, counting invalid ones", async () => {
    const gw = await gateway();
    const token = await tokenFor(await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] }));
    const other = await tokenFor(await seedPrincipal(gw.gateway.store.db, { roles: ["owner"] }));
    const c = client(gw);
    for (let i = 0; i < 5; i += 1) {
      const method = i % 2 === 0 ? "RegisterAgent" : "RegisterClient";
      expect((await callUnary(c, method, { display_name: "", fingerprint: "" }, bearerMetadata(token))).code).toBe(grpc.status.INVALID_ARGUMENT);
    }
    expect(await callUnary(c, "RegisterClient", { display_name: "ok", fingerprint: FP }, bearerMetadata(token))).toEqual(
      denied(grpc.status.RESOURCE_EXHAUSTED, "rate limit exceeded: max 5 registrations per 1m0s"),
    );
    expect((await callUnary(c, "RegisterClient", { display_name: "ok", fingerprint: FP }, bearerMetadata(other))).ok).toBe(true);
  });
});
