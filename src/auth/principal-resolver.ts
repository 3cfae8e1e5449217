// ABOUTME: Turns a bearer Authorization value into the caller's Principal: token, lookup, status gate, roles.
// ABOUTME: Shared by gRPC metadata and HTTP headers (each with its own exact texts); role rules live in roles.ts.
import { GatewayError, describeError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import type { JwtService } from "./jwt.js";

export type PrincipalType = "client" | "agent" | "pack";

/** What the resolver needs to know about a stored principal. */
export interface PrincipalRecord {
  id: string;
  type: PrincipalType;
  displayName: string;
  /** `pending`, `approved`, `online`, `offline` or `revoked`; anything else is refused as unknown. */
  status: string;
}

/** The narrow store view the resolver depends on (the store's repositories implement it). */
export interface PrincipalLookup {
  /** The principal with this id, or undefined when there is none. */
  findPrincipal(id: string): Promise<PrincipalRecord | undefined>;
  /** Role names granted to the principal (`owner`, `admin`, `member`, `leader`). */
  rolesOf(id: string): Promise<string[]>;
}

/** The authenticated caller, handed to every service call. */
export interface Principal {
  readonly id: string;
  readonly type: PrincipalType;
  readonly displayName: string;
  readonly status: string;
  readonly roles: readonly string[];
  /** True only for the built-in no-auth caller (auth context `principal_type` reads "anonymous" then). */
  readonly isAnonymous: boolean;
}

/**
 * What to do when the role lookup fails after the principal passed: `refuse` (gRPC, auth.md §10: INTERNAL) or
 * `continue` without roles (HTTP and the edges that share its rules, logged at warn).
 */
export interface ResolvePolicy {
  roleLookupFailure: "refuse" | "continue";
}

const CONTINUE_WITHOUT_ROLES: ResolvePolicy = Object.freeze({ roleLookupFailure: "continue" });
/** The gRPC policy (auth.md §10): a failed role lookup refuses the call. */
export const REFUSE_WITHOUT_ROLES: ResolvePolicy = Object.freeze({ roleLookupFailure: "refuse" });

/** The caller of every request in no-auth mode (auth.md §11). */
export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({
  id: "anonymous",
  type: "client",
  displayName: "anonymous",
  status: "approved",
  roles: Object.freeze(["admin"]),
  isAnonymous: true,
});

const USABLE_STATUSES: ReadonlySet<string> = new Set(["approved", "online", "offline"]);
const BEARER_PREFIX = "Bearer ";

/**
 * The status gate of auth.md §8. Throws GatewayError PERMISSION_DENIED `principal status is pending` (reason
 * `principal_pending`) / `principal has been revoked` (`principal_revoked`) and INTERNAL `unknown principal status`
 * (`unknown_principal_status`, the status as `detail`) for anything not `approved`/`online`/`offline`.
 */
export function checkPrincipalStatus(status: string): void {
  if (USABLE_STATUSES.has(status)) return;
  if (status === "pending") throw new GatewayError("PERMISSION_DENIED", "principal status is pending", { reason: "principal_pending" });
  if (status === "revoked") throw new GatewayError("PERMISSION_DENIED", "principal has been revoked", { reason: "principal_revoked" });
  throw new GatewayError("INTERNAL", "unknown principal status", { reason: "unknown_principal_status", detail: status });
}

export interface PrincipalResolverOptions {
  /** The token service; undefined means no-auth mode, where every caller is ANONYMOUS_PRINCIPAL. */
  jwt: JwtService | undefined;
  lookup: PrincipalLookup;
  log?: Logger;
}

export interface PrincipalResolver {
  readonly isAuthEnabled: boolean;
  /**
   * Authenticates an `Authorization` value (undefined when absent). Checks in order: header present, `Bearer `
   * prefix, non-empty token, token valid, principal exists, status gate, roles. Messages are the HTTP wording
   * (http-api.md §2); every failure carries a `reason` the gRPC edge maps to its own (auth.md §7).
   * Throws GatewayError UNAUTHENTICATED (`missing authorization header`, `invalid authorization header format`,
   * `empty token`, `invalid token`, `principal not found`), PERMISSION_DENIED (status gate) or INTERNAL (lookup
   * failure `failed to lookup principal` / `failed to lookup roles` with the store's text as `detail`, unknown status).
   */
  resolveAuthorization(authorization: string | undefined, policy?: ResolvePolicy): Promise<Principal>;
  /** Admits an already-identified principal (e.g. found by SSH fingerprint): status gate, then roles. Throws like `checkPrincipalStatus`. */
  admit(record: PrincipalRecord, policy?: ResolvePolicy): Promise<Principal>;
}

/** Creates the resolver used by every authenticating edge. Throws nothing at creation. */
export function createPrincipalResolver(options: PrincipalResolverOptions): PrincipalResolver {
  const { jwt, lookup } = options;

  const loadRoles = async (id: string, policy: ResolvePolicy): Promise<string[]> => {
    try {
      return await lookup.rolesOf(id);
    } catch (err) {
      if (policy.roleLookupFailure === "refuse") {
        throw new GatewayError("INTERNAL", "failed to lookup roles", { cause: err, reason: "role_lookup_failed", detail: describeError(err) });
      }
      options.log?.warn("role lookup failed; continuing without roles", { principal_id: id, error: err });
      return [];
    }
  };

  const admit = async (record: PrincipalRecord, policy: ResolvePolicy = CONTINUE_WITHOUT_ROLES): Promise<Principal> => {
    checkPrincipalStatus(record.status);
    const roles = await loadRoles(record.id, policy);
    return Object.freeze({
      id: record.id,
      type: record.type,
      displayName: record.displayName,
      status: record.status,
      roles: Object.freeze([...roles]),
      isAnonymous: false,
    });
  };

  return {
    isAuthEnabled: jwt !== undefined,
    admit,
    async resolveAuthorization(authorization, policy = CONTINUE_WITHOUT_ROLES) {
      if (jwt === undefined) return ANONYMOUS_PRINCIPAL;
      if (authorization === undefined) {
        throw new GatewayError("UNAUTHENTICATED", "missing authorization header", { reason: "missing_authorization" });
      }
      if (!authorization.startsWith(BEARER_PREFIX)) {
        throw new GatewayError("UNAUTHENTICATED", "invalid authorization header format", { reason: "malformed_authorization" });
      }
      const token = authorization.slice(BEARER_PREFIX.length);
      if (token === "") throw new GatewayError("UNAUTHENTICATED", "empty token", { reason: "empty_token" });

      let principalId: string;
      try {
        ({ principalId } = await jwt.verify(token));
      } catch (err) {
        throw new GatewayError("UNAUTHENTICATED", "invalid token", { cause: err, reason: "invalid_token" });
      }

      let record: PrincipalRecord | undefined;
      try {
        record = await lookup.findPrincipal(principalId);
      } catch (err) {
        throw new GatewayError("INTERNAL", "failed to lookup principal", { cause: err, reason: "principal_lookup_failed", detail: describeError(err) });
      }
      if (record === undefined) throw new GatewayError("UNAUTHENTICATED", "principal not found", { reason: "principal_not_found" });
      return admit(record, policy);
    },
  };
}
