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

/** Which edge's texts to use: they differ for the same checks (auth.md §7, §8, §10). */
export type AuthTransport = "grpc" | "http";

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
 * The status gate of auth.md §8. Throws GatewayError PERMISSION_DENIED for `pending` / `revoked` and INTERNAL
 * `unknown principal status[: <status>]` for anything not `approved`/`online`/`offline`.
 */
export function checkPrincipalStatus(status: string, transport: AuthTransport): void {
  if (USABLE_STATUSES.has(status)) return;
  if (status === "pending") {
    throw new GatewayError(
      "PERMISSION_DENIED",
      transport === "grpc" ? "principal status is pending - admin approval required" : "principal status is pending",
    );
  }
  if (status === "revoked") throw new GatewayError("PERMISSION_DENIED", "principal has been revoked");
  throw new GatewayError("INTERNAL", transport === "grpc" ? `unknown principal status: ${status}` : "unknown principal status");
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
   * prefix, (HTTP) non-empty token, token valid, principal exists, status gate, roles.
   * Throws GatewayError UNAUTHENTICATED (`missing authorization header`, `invalid authorization header format`,
   * HTTP `empty token` / `invalid token`, gRPC `invalid or expired token`, `principal not found`),
   * PERMISSION_DENIED (status gate) or INTERNAL (lookup failure, unknown status).
   */
  resolveAuthorization(authorization: string | undefined, transport: AuthTransport): Promise<Principal>;
  /**
   * Admits an already-identified principal (e.g. found by SSH fingerprint): status gate, then roles.
   * Throws like `checkPrincipalStatus`, and gRPC INTERNAL `failed to lookup roles: <detail>`.
   */
  admit(record: PrincipalRecord, transport: AuthTransport): Promise<Principal>;
}

/** Creates the resolver used by every authenticating edge. Throws nothing at creation. */
export function createPrincipalResolver(options: PrincipalResolverOptions): PrincipalResolver {
  const { jwt, lookup } = options;

  const loadRoles = async (id: string, transport: AuthTransport): Promise<string[]> => {
    try {
      return await lookup.rolesOf(id);
    } catch (err) {
      if (transport === "grpc") throw new GatewayError("INTERNAL", `failed to lookup roles: ${describeError(err)}`, { cause: err });
      options.log?.warn("role lookup failed; continuing without roles", { principal_id: id, error: err });
      return [];
    }
  };

  const admit = async (record: PrincipalRecord, transport: AuthTransport): Promise<Principal> => {
    checkPrincipalStatus(record.status, transport);
    const roles = await loadRoles(record.id, transport);
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
    async resolveAuthorization(authorization, transport) {
      if (jwt === undefined) return ANONYMOUS_PRINCIPAL;
      if (authorization === undefined) throw new GatewayError("UNAUTHENTICATED", "missing authorization header");
      if (!authorization.startsWith(BEARER_PREFIX)) throw new GatewayError("UNAUTHENTICATED", "invalid authorization header format");
      const token = authorization.slice(BEARER_PREFIX.length);
      const invalidToken = transport === "grpc" ? "invalid or expired token" : "invalid token";
      if (token === "") throw new GatewayError("UNAUTHENTICATED", transport === "grpc" ? invalidToken : "empty token");

      let principalId: string;
      try {
        ({ principalId } = await jwt.verify(token));
      } catch (err) {
        throw new GatewayError("UNAUTHENTICATED", invalidToken, { cause: err });
      }

      let record: PrincipalRecord | undefined;
      try {
        record = await lookup.findPrincipal(principalId);
      } catch (err) {
        const message = transport === "grpc" ? `failed to lookup principal: ${describeError(err)}` : "failed to lookup principal";
        throw new GatewayError("INTERNAL", message, { cause: err });
      }
      if (record === undefined) throw new GatewayError("UNAUTHENTICATED", "principal not found");
      return admit(record, transport);
    },
  };
}
