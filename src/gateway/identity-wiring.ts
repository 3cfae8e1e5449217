// ABOUTME: Builds the identity pieces of the gateway from the config: JWT, resolver, lockout, SSH auth,
// ABOUTME: identity service, presence and agent directory, and runs the startup steps of store.md §9 (2-3).
import { createAgentDirectoryService, type AgentDirectoryService } from "../auth/agent-directory.js";
import { createSshPrincipalAuthenticator, type SshPrincipalAuthenticator } from "../auth/agent-authenticator.js";
import { createIdentityService, type IdentityService } from "../auth/identity-service.js";
import { prepareIdentityStore } from "../auth/identity-startup.js";
import { createJwtService, type JwtService } from "../auth/jwt.js";
import { createLockout, type Lockout } from "../auth/lockout.js";
import { createNonceCache } from "../auth/nonce-cache.js";
import { createPresenceService, type PresenceService } from "../auth/presence.js";
import { createPrincipalResolver, type PrincipalResolver } from "../auth/principal-resolver.js";
import { createSshVerifier } from "../auth/ssh-signature.js";
import type { GatewayConfig } from "../config/types.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { createPrincipalRepository } from "../store/principal-repository.js";
import { createRoleRepository } from "../store/role-repository.js";
import type { StoreExecutor } from "../store/transaction.js";

/**
 * Everything identity-related a running gateway holds. The HTTP, MCP and web-admin edges authenticate through
 * `resolver` (bearer tokens, status gate, roles) and report failures to `lockout`; they subscribe to
 * `service.onPrincipalRemoved` to end live sessions of revoked or deleted principals.
 */
export interface GatewayIdentity {
  readonly isAuthEnabled: boolean;
  /** Undefined in no-auth mode. */
  readonly jwt: JwtService | undefined;
  readonly resolver: PrincipalResolver;
  readonly lockout: Lockout;
  readonly ssh: SshPrincipalAuthenticator;
  readonly service: IdentityService;
  readonly presence: PresenceService;
  readonly directory: AgentDirectoryService;
}

/**
 * Builds the identity pieces; nothing touches the store until `prepareIdentity` runs.
 * Throws GatewayError INVALID_ARGUMENT for a JWT secret under 32 bytes.
 */
export function createIdentity(options: {
  config: GatewayConfig;
  db: StoreExecutor;
  clock: Clock;
  ids: IdSource;
  log: Logger;
}): GatewayIdentity {
  const { config, db, clock, ids, log } = options;
  const isAuthEnabled = config.auth.jwtSecret !== "";
  const jwt = isAuthEnabled ? createJwtService({ secret: config.auth.jwtSecret, clock }) : undefined;
  const principals = createPrincipalRepository(db);
  const roles = createRoleRepository(db);
  const resolver = createPrincipalResolver({
    jwt,
    lookup: { findPrincipal: (id) => principals.findById(id), rolesOf: (id) => roles.rolesOf(id) },
    log,
  });
  const { maxFailures, windowMs, durationMs, exemptLoopback } = config.auth.lockout;
  const lockout = createLockout({ maxFailures, windowMs, durationMs, exemptLoopback, clock, log });
  const ssh = createSshPrincipalAuthenticator({
    verifier: createSshVerifier({ clock, nonceCache: createNonceCache({ clock }) }),
    resolver,
    db,
    autoRegistration: config.auth.agentAutoRegistration,
    clock,
    ids,
    log,
  });
  return {
    isAuthEnabled,
    jwt,
    resolver,
    lockout,
    ssh,
    service: createIdentityService({ db, jwt, clock, ids, log }),
    presence: createPresenceService({ db, clock, log }),
    directory: createAgentDirectoryService({ db, clock }),
  };
}

/** The identity startup steps of store.md §9 (2-3): ensure/revoke `anonymous`, online → offline. Store failures propagate. */
export async function prepareIdentity(options: { identity: GatewayIdentity; db: StoreExecutor; clock: Clock; log: Logger }): Promise<void> {
  const { identity, db, clock, log } = options;
  await prepareIdentityStore({ db, isAuthEnabled: identity.isAuthEnabled, clock, log });
}
