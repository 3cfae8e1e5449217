// ABOUTME: The real gRPC authenticator: SSH signature (x-ssh-*) or `authorization: Bearer <jwt>` per auth.md §4,
// ABOUTME: behind the per-address brute-force lockout of §14a; no-auth mode answers the anonymous admin.
import type { Metadata } from "@grpc/grpc-js";
import type { SshPrincipalAuthenticator } from "../auth/agent-authenticator.js";
import { addressFromPeer, type Lockout } from "../auth/lockout.js";
import { REFUSE_WITHOUT_ROLES, type Principal, type PrincipalResolver } from "../auth/principal-resolver.js";
import { hasSshCredentials, SSH_METADATA_KEYS, type SshAuthMetadata } from "../auth/ssh-signature.js";
import { isGatewayError } from "../lib/gateway-error.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import type { RpcAuthenticator, RpcCallContext } from "./rpc-auth.js";
import { withGrpcWording } from "./status-map.js";

export interface RpcIdentityAuthenticatorOptions {
  /** Bearer tokens, status gate and roles; `isAuthEnabled` false means no-auth mode. */
  resolver: PrincipalResolver;
  ssh: SshPrincipalAuthenticator;
  lockout: Lockout;
  log?: Logger;
}

/** An RpcAuthenticator whose result is the full principal (type, display name, status). */
export interface RpcIdentityAuthenticator extends RpcAuthenticator {
  authenticate(context: RpcCallContext): Promise<Principal>;
}

/** The first value of a metadata key as text ("" when absent). */
function firstValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value.toString("utf8");
}

/** The `x-ssh-*` values of a call (first value of each key). */
export function sshMetadataOf(metadata: Metadata): SshAuthMetadata {
  const out: Partial<Record<(typeof SSH_METADATA_KEYS)[number], string>> = {};
  for (const key of SSH_METADATA_KEYS) {
    const value = firstValue(metadata, key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * Creates the authenticator used by every gRPC service. Order: lockout check (RESOURCE_EXHAUSTED
 * `too many failed authentication attempts; retry in <N>s`), then SSH when any `x-ssh-*` value is non-empty,
 * else the bearer token; then status gate and roles. Each UNAUTHENTICATED failure counts against the peer's
 * address (PERMISSION_DENIED and INTERNAL do not: the caller proved who it is, or the fault is ours).
 */
export function createRpcIdentityAuthenticator(options: RpcIdentityAuthenticatorOptions): RpcIdentityAuthenticator {
  const { resolver, ssh, lockout } = options;
  const log = options.log ?? silentLogger;

  return {
    async authenticate(context) {
      if (!resolver.isAuthEnabled) return resolver.resolveAuthorization(undefined, REFUSE_WITHOUT_ROLES);
      const address = addressFromPeer(context.peer);
      lockout.check(address);
      const credentials = sshMetadataOf(context.metadata);
      const isSsh = hasSshCredentials(credentials);
      try {
        const principal = isSsh
          ? await ssh.authenticate(credentials)
          : await resolver.resolveAuthorization(firstValue(context.metadata, "authorization"), REFUSE_WITHOUT_ROLES);
        lockout.recordSuccess(address);
        return principal;
      } catch (err) {
        if (isGatewayError(err, "UNAUTHENTICATED")) {
          lockout.recordFailure(address);
          log.debug("gRPC authentication failed", { address, path: context.path, method: isSsh ? "ssh" : "jwt", reason: err.message });
        }
        throw withGrpcWording(err);
      }
    },
  };
}
