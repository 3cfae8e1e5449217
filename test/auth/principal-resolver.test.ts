// ABOUTME: Tests bearer authentication for gRPC and HTTP: the ordered checks, reasons, each edge's exact texts, the gates.
// ABOUTME: Uses the real JWT service and an in-memory PrincipalLookup passed in as the injected dependency.
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/lib/clock.js";
import { GatewayError, type ErrorCode } from "../../src/lib/gateway-error.js";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { createJwtService } from "../../src/auth/jwt.js";
import {
  ANONYMOUS_PRINCIPAL,
  checkPrincipalStatus,
  createPrincipalResolver,
  REFUSE_WITHOUT_ROLES,
  type Principal,
  type PrincipalLookup,
  type PrincipalRecord,
  type PrincipalResolver,
} from "../../src/auth/principal-resolver.js";
import { withGrpcWording } from "../../src/rpc/status-map.js";

/** The edge a resolution is seen from: gRPC refuses on a failed role lookup and reads its own wording table. */
type AuthTransport = "grpc" | "http";

async function resolveAs(resolver: PrincipalResolver, header: string | undefined, transport: AuthTransport): Promise<Principal> {
  if (transport === "http") return resolver.resolveAuthorization(header);
  try {
    return await resolver.resolveAuthorization(header, REFUSE_WITHOUT_ROLES);
  } catch (err) {
    throw withGrpcWording(err);
  }
}

async function admitAs(resolver: PrincipalResolver, record: PrincipalRecord): Promise<Principal> {
  try {
    return await resolver.admit(record, REFUSE_WITHOUT_ROLES);
  } catch (err) {
    throw withGrpcWording(err);
  }
}

const clock: Clock = { now: () => new Date(1_700_000_000_000) };
const jwt = createJwtService({ secret: "0123456789abcdef0123456789abcdef", clock });

function lookupOf(records: PrincipalRecord[], roles: Record<string, string[]> = {}): PrincipalLookup & { roleCalls: number } {
  const lookup = {
    roleCalls: 0,
    async findPrincipal(id: string) {
      return records.find((record) => record.id === id);
    },
    async rolesOf(id: string) {
      lookup.roleCalls += 1;
      return roles[id] ?? [];
    },
  };
  return lookup;
}

const record = (id: string, status: string): PrincipalRecord => ({ id, type: "client", displayName: `name-${id}`, status });

async function failure(promise: Promise<unknown>): Promise<[ErrorCode, string]> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return [(err as GatewayError).code, (err as GatewayError).message];
  }
  throw new Error("expected a failure");
}

const bearer = async (id: string) => `Bearer ${(await jwt.mint(id)).token}`;

describe("resolveAuthorization: header checks", () => {
  const resolver = createPrincipalResolver({ jwt, lookup: lookupOf([record("p1", "approved")]) });

  it("gives the HTTP texts of http-api.md §2 in order", async () => {
    expect(await failure(resolveAs(resolver, undefined, "http"))).toEqual(["UNAUTHENTICATED", "missing authorization header"]);
    expect(await failure(resolveAs(resolver, "Basic abc", "http"))).toEqual(["UNAUTHENTICATED", "invalid authorization header format"]);
    expect(await failure(resolveAs(resolver, "bearer abc", "http"))).toEqual(["UNAUTHENTICATED", "invalid authorization header format"]);
    expect(await failure(resolveAs(resolver, "Bearer", "http"))).toEqual(["UNAUTHENTICATED", "invalid authorization header format"]);
    expect(await failure(resolveAs(resolver, "Bearer ", "http"))).toEqual(["UNAUTHENTICATED", "empty token"]);
    expect(await failure(resolveAs(resolver, "Bearer junk", "http"))).toEqual(["UNAUTHENTICATED", "invalid token"]);
    expect(await failure(resolveAs(resolver, await bearer("ghost"), "http"))).toEqual(["UNAUTHENTICATED", "principal not found"]);
  });

  it("gives the gRPC texts of auth.md §7 in order", async () => {
    expect(await failure(resolveAs(resolver, undefined, "grpc"))).toEqual(["UNAUTHENTICATED", "missing authorization header"]);
    expect(await failure(resolveAs(resolver, "Token x", "grpc"))).toEqual(["UNAUTHENTICATED", "invalid authorization header format"]);
    expect(await failure(resolveAs(resolver, "Bearer ", "grpc"))).toEqual(["UNAUTHENTICATED", "invalid or expired token"]);
    expect(await failure(resolveAs(resolver, "Bearer junk", "grpc"))).toEqual(["UNAUTHENTICATED", "invalid or expired token"]);
    expect(await failure(resolveAs(resolver, await bearer("ghost"), "grpc"))).toEqual(["UNAUTHENTICATED", "principal not found"]);
  });

  it("does not trim the token (a second space makes it invalid)", async () => {
    const header = (await bearer("p1")).replace("Bearer ", "Bearer  ");
    expect(await failure(resolveAs(resolver, header, "http"))).toEqual(["UNAUTHENTICATED", "invalid token"]);
  });
});

describe("resolveAuthorization: principal, status gate and roles", () => {
  it("returns the principal with its roles for usable statuses", async () => {
    const lookup = lookupOf([record("a", "approved"), record("on", "online"), record("off", "offline")], { a: ["admin", "member"] });
    const resolver = createPrincipalResolver({ jwt, lookup });
    const principal = await resolveAs(resolver, await bearer("a"), "http");
    expect(principal).toEqual({ id: "a", type: "client", displayName: "name-a", status: "approved", roles: ["admin", "member"], isAnonymous: false });
    expect(Object.isFrozen(principal)).toBe(true);
    expect((await resolveAs(resolver, await bearer("on"), "grpc")).status).toBe("online");
    expect((await resolveAs(resolver, await bearer("off"), "grpc")).roles).toEqual([]);
    expect(resolver.isAuthEnabled).toBe(true);
  });

  it("applies the status gate with per-transport texts", async () => {
    const lookup = lookupOf([record("pend", "pending"), record("rev", "revoked"), record("odd", "suspended")]);
    const resolver = createPrincipalResolver({ jwt, lookup });
    const cases: Array<[string, AuthTransport, [ErrorCode, string]]> = [
      ["pend", "http", ["PERMISSION_DENIED", "principal status is pending"]],
      ["pend", "grpc", ["PERMISSION_DENIED", "principal status is pending - admin approval required"]],
      ["rev", "http", ["PERMISSION_DENIED", "principal has been revoked"]],
      ["rev", "grpc", ["PERMISSION_DENIED", "principal has been revoked"]],
      ["odd", "http", ["INTERNAL", "unknown principal status"]],
      ["odd", "grpc", ["INTERNAL", "unknown principal status: suspended"]],
    ];
    for (const [id, transport, expected] of cases) {
      expect(await failure(resolveAs(resolver, await bearer(id), transport))).toEqual(expected);
    }
    expect(lookup.roleCalls).toBe(0);
  });

  it("reports a principal lookup failure as INTERNAL (detail only on gRPC)", async () => {
    const lookup: PrincipalLookup = {
      findPrincipal: async () => {
        throw new Error("database is locked");
      },
      rolesOf: async () => [],
    };
    const resolver = createPrincipalResolver({ jwt, lookup });
    expect(await failure(resolveAs(resolver, await bearer("p"), "grpc"))).toEqual([
      "INTERNAL",
      "failed to lookup principal: database is locked",
    ]);
    expect(await failure(resolveAs(resolver, await bearer("p"), "http"))).toEqual(["INTERNAL", "failed to lookup principal"]);
  });

  it("fails gRPC on a role lookup failure but lets HTTP continue without roles, logging a warning", async () => {
    const log = createMemoryLogger();
    const lookup: PrincipalLookup = {
      findPrincipal: async (id) => record(id, "approved"),
      rolesOf: async () => {
        throw new Error("disk I/O error");
      },
    };
    const resolver = createPrincipalResolver({ jwt, lookup, log });
    expect(await failure(resolveAs(resolver, await bearer("p"), "grpc"))).toEqual([
      "INTERNAL",
      "failed to lookup roles: disk I/O error",
    ]);
    expect((await resolveAs(resolver, await bearer("p"), "http")).roles).toEqual([]);
    expect(log.entries.filter((entry) => entry.level === "warn")).toHaveLength(1);
  });

  it("admits a record found another way (SSH fingerprint) through the same gate", async () => {
    const resolver = createPrincipalResolver({ jwt, lookup: lookupOf([], { agent1: ["leader"] }) });
    const agent: PrincipalRecord = { id: "agent1", type: "agent", displayName: "agent-1", status: "offline" };
    expect((await admitAs(resolver, agent)).roles).toEqual(["leader"]);
    expect(await failure(admitAs(resolver, { ...agent, status: "revoked" }))).toEqual(["PERMISSION_DENIED", "principal has been revoked"]);
  });
});

describe("no-auth mode", () => {
  it("answers every caller with the anonymous admin, ignoring credentials", async () => {
    const resolver = createPrincipalResolver({ jwt: undefined, lookup: lookupOf([]) });
    expect(resolver.isAuthEnabled).toBe(false);
    for (const header of [undefined, "garbage", "Bearer ", await bearer("x")]) {
      expect(await resolveAs(resolver, header, "http")).toBe(ANONYMOUS_PRINCIPAL);
      expect(await resolveAs(resolver, header, "grpc")).toBe(ANONYMOUS_PRINCIPAL);
    }
    expect(ANONYMOUS_PRINCIPAL).toEqual({
      id: "anonymous",
      type: "client",
      displayName: "anonymous",
      status: "approved",
      roles: ["admin"],
      isAnonymous: true,
    });
    expect(Object.isFrozen(ANONYMOUS_PRINCIPAL.roles)).toBe(true);
  });
});

describe("reasons", () => {
  it("names every refusal with a stable reason, whatever the wording", async () => {
    const resolver = createPrincipalResolver({ jwt, lookup: lookupOf([record("pend", "pending"), record("rev", "revoked"), record("odd", "x")]) });
    const reasonOf = async (header: string | undefined) => {
      try {
        await resolver.resolveAuthorization(header);
      } catch (err) {
        return (err as GatewayError).reason;
      }
      return undefined;
    };
    expect(await reasonOf(undefined)).toBe("missing_authorization");
    expect(await reasonOf("Basic x")).toBe("malformed_authorization");
    expect(await reasonOf("Bearer ")).toBe("empty_token");
    expect(await reasonOf("Bearer junk")).toBe("invalid_token");
    expect(await reasonOf(await bearer("ghost"))).toBe("principal_not_found");
    expect(await reasonOf(await bearer("pend"))).toBe("principal_pending");
    expect(await reasonOf(await bearer("rev"))).toBe("principal_revoked");
    expect(await reasonOf(await bearer("odd"))).toBe("unknown_principal_status");
  });
});

describe("gates", () => {
  it("checkPrincipalStatus passes approved, online and offline", () => {
    for (const status of ["approved", "online", "offline"]) expect(() => checkPrincipalStatus(status)).not.toThrow();
  });
});
