// ABOUTME: Who a WS connection is (ws.md §1 identity kinds, §2.2): auth off, the upgrade's bearer header, the
// ABOUTME: hello token, or the web admin session cookie, through the shared resolver and the address lockout.
import { GatewayError, hasReason, isGatewayError } from "../lib/gateway-error.js";
import type { WsDeps } from "./ws-deps.js";

/** The fixed identity of an established connection. */
export interface WsIdentity {
  kind: "principal" | "webadmin" | "anonymous";
  /** The actor string: cap and limit key, audit actor. */
  id: string;
  displayName: string;
  roles: readonly string[];
  /** The principal behind the connection (revocation); undefined for web admin sessions. */
  principalId: string | undefined;
  /** The inbound ledger actor: NULL for web admin sessions (store.md §5). */
  ledgerActor: string | null;
  idempotencyScope: string;
  /** When the JWT's `exp` (or the admin session's expiry) passes, the connection closes 4401. */
  expiresAtMs?: number | undefined;
  /** The web admin session id (`closeAdminSession` closes its connections). */
  sessionKey?: string | undefined;
}

/** What the upgrade request carried (§2.1 already refused a cookie from a foreign origin). */
export interface WsCredentials {
  ip: string;
  authorization: string | undefined;
  /** The `Cookie` header, only when it holds `coven_admin_session` from the public base URL's origin. */
  adminCookie: string | undefined;
}

export const ADMIN_SESSION_COOKIE = "coven_admin_session";
const LOCKED_OUT_TEXT = "too many failed authentication attempts";

/** `cause` is the refusal as the shared resolver would throw it (ops.md §1.4 maps it to a failure reason). */
export type HelloAuthOutcome = { kind: "ok"; identity: WsIdentity } | { kind: "refused"; message: string; cause: unknown };

/**
 * Resolves the first credential present (§2.2). Failures answer `refused` with the http-api.md §2 text and count
 * toward the lockout; a missing credential does not. Unexpected failures (store errors) are thrown.
 */
export async function authenticateHello(
  deps: Pick<WsDeps, "resolver" | "lockout" | "adminSessions" | "log">,
  credentials: WsCredentials,
  helloToken: string | undefined,
): Promise<HelloAuthOutcome> {
  const { resolver, lockout } = deps;
  if (!resolver.isAuthEnabled) {
    return {
      kind: "ok",
      identity: {
        kind: "anonymous",
        id: "anonymous",
        displayName: "anonymous",
        roles: ["admin"],
        principalId: "anonymous",
        ledgerActor: "anonymous",
        idempotencyScope: "principal:anonymous",
      },
    };
  }
  const authorization = credentials.authorization ?? (helloToken === undefined ? undefined : `Bearer ${helloToken}`);
  const hasCookie = authorization === undefined && credentials.adminCookie !== undefined && deps.adminSessions !== undefined;
  if (authorization === undefined && !hasCookie) {
    const message = "authentication required";
    return { kind: "refused", message, cause: new GatewayError("UNAUTHENTICATED", message, { reason: "credential_missing" }) };
  }
  try {
    lockout?.check(credentials.ip);
  } catch (err) {
    if (isGatewayError(err, "RESOURCE_EXHAUSTED")) return { kind: "refused", message: LOCKED_OUT_TEXT, cause: err };
    throw err;
  }
  const fail = (message: string, cause: unknown = new GatewayError("UNAUTHENTICATED", message)): HelloAuthOutcome => {
    lockout?.recordFailure(credentials.ip);
    deps.log.debug("ws authentication failed", { address: credentials.ip, reason: message });
    return { kind: "refused", message, cause };
  };
  if (authorization === undefined) {
    const session = await deps.adminSessions?.resolve(credentials.adminCookie as string);
    if (session === undefined) return fail("session ended");
    lockout?.recordSuccess(credentials.ip);
    return {
      kind: "ok",
      identity: {
        kind: "webadmin",
        id: `webadmin:${session.adminUserId}`,
        displayName: session.username,
        roles: ["admin"],
        principalId: undefined,
        ledgerActor: null,
        idempotencyScope: `webadmin:${session.adminUserId}`,
        sessionKey: session.sessionId,
        expiresAtMs: Date.parse(session.expiresAt),
      },
    };
  }
  try {
    const principal = await resolver.resolveAuthorization(authorization);
    lockout?.recordSuccess(credentials.ip);
    return {
      kind: "ok",
      identity: {
        kind: "principal",
        id: principal.id,
        displayName: principal.displayName,
        roles: principal.roles,
        principalId: principal.id,
        ledgerActor: principal.id,
        idempotencyScope: `principal:${principal.id}`,
        expiresAtMs: tokenExpiry(authorization),
      },
    };
  } catch (err) {
    if (isGatewayError(err, "UNAUTHENTICATED") || isGatewayError(err, "PERMISSION_DENIED")) return fail(err.message, err);
    if (hasReason(err, "unknown_principal_status")) return fail((err as Error).message, err);
    throw err;
  }
}

/** The `exp` of an already verified bearer JWT, in ms; undefined when it has none. */
function tokenExpiry(authorization: string): number | undefined {
  const payload = authorization.slice("Bearer ".length).split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
