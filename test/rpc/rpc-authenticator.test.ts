// ABOUTME: Tests the gRPC authenticator on real grpc-js Metadata: credential choice (SSH wins over the bearer),
// ABOUTME: no-auth mode ignoring credentials, and the per-address lockout counting only UNAUTHENTICATED failures.
import { describe, expect, it } from "vitest";
import { Metadata } from "@grpc/grpc-js";
import type { SshPrincipalAuthenticator } from "../../src/auth/agent-authenticator.js";
import { createJwtService } from "../../src/auth/jwt.js";
import { createLockout } from "../../src/auth/lockout.js";
import { createPrincipalResolver, type Principal, type PrincipalRecord } from "../../src/auth/principal-resolver.js";
import type { SshAuthMetadata } from "../../src/auth/ssh-signature.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { createRpcIdentityAuthenticator, sshMetadataOf } from "../../src/rpc/rpc-authenticator.js";
import { createManualClock } from "../store/temp-database.js";

const clock = createManualClock("2025-06-01T00:00:00.000Z");
const jwt = createJwtService({ secret: "0123456789abcdef0123456789abcdef", clock });
const records: PrincipalRecord[] = [
  { id: "alice", type: "client", displayName: "Alice", status: "approved" },
  { id: "pending", type: "client", displayName: "P", status: "pending" },
];
const lookup = { findPrincipal: async (id: string) => records.find((r) => r.id === id), rolesOf: async () => ["member"] };

/** An SSH authenticator double that records what it was asked and answers with a fixed principal or error. */
function sshDouble(outcome: Principal | GatewayError): SshPrincipalAuthenticator & { seen: SshAuthMetadata[] } {
  const seen: SshAuthMetadata[] = [];
  return {
    seen,
    async authenticate(metadata) {
      seen.push(metadata);
      if (outcome instanceof GatewayError) throw outcome;
      return outcome;
    },
  };
}

const agent: Principal = { id: "agent-1", type: "agent", displayName: "a", status: "approved", roles: [], isAnonymous: false };

function metadataOf(values: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(values)) metadata.add(k, v);
  return metadata;
}

const call = (metadata: Metadata, peer = "ipv4:10.0.0.1:5555") => ({ metadata, peer, path: "/coven.ClientService/GetMe", kind: "call" as const });

async function failure(promise: Promise<unknown>): Promise<[string, string]> {
  try {
    await promise;
  } catch (err) {
    return [(err as GatewayError).code, (err as GatewayError).message];
  }
  throw new Error("expected a failure");
}

describe("createRpcIdentityAuthenticator", () => {
  it("uses SSH when any x-ssh-* value is non-empty, ignoring authorization, and the bearer token otherwise", async () => {
    const ssh = sshDouble(agent);
    const auth = createRpcIdentityAuthenticator({ resolver: createPrincipalResolver({ jwt, lookup }), ssh, lockout: createLockout({ clock }) });
    const { token } = await jwt.mint("alice");
    const viaSsh = await auth.authenticate(call(metadataOf({ "x-ssh-nonce": "n", "x-ssh-pubkey": "k", authorization: `Bearer ${token}` })));
    expect(viaSsh.id).toBe("agent-1");
    expect(ssh.seen).toEqual([{ "x-ssh-nonce": "n", "x-ssh-pubkey": "k" }]);
    const viaJwt = await auth.authenticate(call(metadataOf({ "x-ssh-nonce": "", authorization: `Bearer ${token}` })));
    expect(viaJwt).toMatchObject({ id: "alice", roles: ["member"] });
    expect(ssh.seen).toHaveLength(1);
  });

  it("in no-auth mode answers the anonymous admin whatever the credentials, with no lockout", async () => {
    const ssh = sshDouble(new GatewayError("UNAUTHENTICATED", "never"));
    const lockout = createLockout({ clock, maxFailures: 1 });
    lockout.recordFailure("10.0.0.1");
    const auth = createRpcIdentityAuthenticator({ resolver: createPrincipalResolver({ jwt: undefined, lookup }), ssh, lockout });
    const principal = await auth.authenticate(call(metadataOf({ "x-ssh-pubkey": "k", authorization: "Bearer junk" })));
    expect(principal).toMatchObject({ id: "anonymous", isAnonymous: true, roles: ["admin"] });
    expect(ssh.seen).toEqual([]);
  });

  it("locks an address after max failures (UNAUTHENTICATED only) and unlocks after the duration", async () => {
    const lockout = createLockout({ clock, maxFailures: 3, windowMs: 60_000, durationMs: 300_000 });
    const auth = createRpcIdentityAuthenticator({ resolver: createPrincipalResolver({ jwt, lookup }), ssh: sshDouble(agent), lockout });
    const { token: pendingToken } = await jwt.mint("pending");
    expect(await failure(auth.authenticate(call(metadataOf({ authorization: `Bearer ${pendingToken}` }))))).toEqual([
      "PERMISSION_DENIED",
      "principal status is pending - admin approval required",
    ]);
    for (let i = 0; i < 3; i += 1) {
      expect(await failure(auth.authenticate(call(metadataOf({}), `ipv4:10.0.0.1:${4000 + i}`)))).toEqual([
        "UNAUTHENTICATED",
        "missing authorization header",
      ]);
    }
    const { token } = await jwt.mint("alice");
    expect(await failure(auth.authenticate(call(metadataOf({ authorization: `Bearer ${token}` }))))).toEqual([
      "RESOURCE_EXHAUSTED",
      "too many failed authentication attempts; retry in 300s",
    ]);
    expect((await auth.authenticate(call(metadataOf({ authorization: `Bearer ${token}` }), "ipv4:10.0.0.2:1"))).id).toBe("alice");
    clock.set("2025-06-01T00:05:00.001Z");
    expect((await auth.authenticate(call(metadataOf({ authorization: `Bearer ${token}` })))).id).toBe("alice");
  });
});

describe("sshMetadataOf", () => {
  it("takes the first value of each x-ssh-* key and nothing else", () => {
    const metadata = metadataOf({ "x-ssh-pubkey": "first", "x-ssh-timestamp": "1", authorization: "Bearer x" });
    metadata.add("x-ssh-pubkey", "second");
    expect(sshMetadataOf(metadata)).toEqual({ "x-ssh-pubkey": "first", "x-ssh-timestamp": "1" });
  });
});
