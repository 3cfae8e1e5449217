// ABOUTME: SSH-signature authentication of a call (auth.md §5 steps 1-13) plus agent auto-registration (§6).
// ABOUTME: Verifies the x-ssh-* values, finds the principal by fingerprint (or creates it), then admits it.
import { systemClock, isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError, describeError } from "../lib/gateway-error.js";
import { randomIds, type IdSource } from "../lib/ids.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import { createPrincipalRepository, type Principal as StoredPrincipal } from "../store/principal-repository.js";
import type { StoreExecutor } from "../store/transaction.js";
import { REFUSE_WITHOUT_ROLES, type Principal, type PrincipalResolver } from "./principal-resolver.js";
import type { SshAuthMetadata, SshVerifier } from "./ssh-signature.js";

/** `auth.agent_auto_registration` (config.md §3.3; unknown values were already mapped to `pending`). */
export type AutoRegistrationMode = "disabled" | "pending" | "approved";

export interface SshPrincipalAuthenticatorOptions {
  verifier: SshVerifier;
  /** Admits the found principal: status gate and roles (gRPC texts). */
  resolver: PrincipalResolver;
  db: StoreExecutor;
  autoRegistration: AutoRegistrationMode;
  clock?: Clock;
  ids?: IdSource;
  log?: Logger;
}

export interface SshPrincipalAuthenticator {
  /**
   * Authenticates one call's `x-ssh-*` values. Throws GatewayError UNAUTHENTICATED (the §5 check texts,
   * `unknown public key`), PERMISSION_DENIED (status gate, or the pending auto-registration text) or INTERNAL
   * (`failed to lookup principal: <detail>`, `failed to auto-create principal: <detail>`, role lookup).
   */
  authenticate(metadata: SshAuthMetadata): Promise<Principal>;
}

/** The display name of an auto-registered agent: `agent-` + the fingerprint's last 8 characters. */
export function autoRegisteredDisplayName(fingerprint: string): string {
  return `agent-${fingerprint.slice(-8)}`;
}

/** Creates the SSH authenticator. Throws nothing at creation. */
export function createSshPrincipalAuthenticator(options: SshPrincipalAuthenticatorOptions): SshPrincipalAuthenticator {
  const { verifier, resolver, autoRegistration } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  const log = options.log ?? silentLogger;
  const principals = createPrincipalRepository(options.db);

  const lookup = async (fingerprint: string): Promise<StoredPrincipal | undefined> => {
    try {
      return await principals.findByFingerprint(fingerprint);
    } catch (err) {
      throw new GatewayError("INTERNAL", `failed to lookup principal: ${describeError(err)}`, { cause: err });
    }
  };

  const autoRegister = async (fingerprint: string, status: "approved" | "pending"): Promise<StoredPrincipal> => {
    let created: StoredPrincipal | undefined;
    try {
      created = await principals.insert({
        id: ids.uuid(),
        type: "agent",
        displayName: autoRegisteredDisplayName(fingerprint),
        status,
        pubkeyFingerprint: fingerprint,
        now: isoTimestamp(clock.now()),
      });
      // A concurrent call with the same key won the insert: use its principal.
      created ??= await principals.findByFingerprint(fingerprint);
    } catch (err) {
      throw new GatewayError("INTERNAL", `failed to auto-create principal: ${describeError(err)}`, { cause: err });
    }
    if (created === undefined) throw new GatewayError("INTERNAL", "failed to auto-create principal: fingerprint vanished");
    log.info("auto-registered agent principal", { principal_id: created.id, fingerprint, status: created.status });
    return created;
  };

  return {
    async authenticate(metadata) {
      const { fingerprint } = verifier.verify(metadata);
      let principal = await lookup(fingerprint);
      if (principal === undefined) {
        if (autoRegistration === "disabled") throw new GatewayError("UNAUTHENTICATED", "unknown public key", { reason: "unknown_public_key" });
        principal = await autoRegister(fingerprint, autoRegistration);
        if (principal.status === "pending") {
          throw new GatewayError(
            "PERMISSION_DENIED",
            `agent registered with pending status (principal_id: ${principal.id}) - admin approval required`,
          );
        }
      }
      return resolver.admit(principal, REFUSE_WITHOUT_ROLES);
    },
  };
}
