// ABOUTME: The real HttpAuthenticator of the JWT routes (auth on): bearer token, principal, status gate and roles
// ABOUTME: through the shared resolver, behind the per-address brute-force lockout of auth.md §14a.
import type { Lockout } from "../auth/lockout.js";
import type { PrincipalResolver } from "../auth/principal-resolver.js";
import { isGatewayError } from "../lib/gateway-error.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import type { HttpAuthenticator, HttpPrincipal } from "./http-auth.js";
import { HttpError } from "./http-errors.js";

/** The body text of a locked-out address (auth.md §14a); the wait is in the `Retry-After` header. */
export const LOCKED_OUT_TEXT = "too many failed authentication attempts";

export interface JwtHttpAuthenticatorOptions {
  /** `resolveAuthorization(header, "http")`: the ordered checks and texts of http-api.md §2. */
  resolver: Pick<PrincipalResolver, "isAuthEnabled" | "resolveAuthorization">;
  /** Shared with the gRPC edge, so failures from one address count across entry points. */
  lockout: Pick<Lockout, "check" | "recordFailure" | "recordSuccess" | "retryAfterSeconds">;
  log?: Logger;
}

/**
 * Throws HttpError 429 `too many failed authentication attempts` with `Retry-After: <seconds>` while `address` is
 * locked out; does nothing otherwise. Shared by every HTTP entry point that reports failures to the lockout.
 */
export function checkHttpLockout(lockout: Pick<Lockout, "check" | "retryAfterSeconds">, address: string): void {
  try {
    lockout.check(address);
  } catch (err) {
    if (!isGatewayError(err, "RESOURCE_EXHAUSTED")) throw err;
    const seconds = Math.max(1, lockout.retryAfterSeconds(address));
    throw new HttpError(429, LOCKED_OUT_TEXT, { cause: err, headers: { "retry-after": String(seconds) } });
  }
}

/**
 * Creates the authenticator. With auth off the resolver answers the anonymous admin and nothing is counted.
 * With auth on, in order: lockout (HttpError 429), then the resolver, whose GatewayErrors map through the HTTP
 * error table: UNAUTHENTICATED 401 (`missing authorization header`, `invalid authorization header format`,
 * `empty token`, `invalid token`, `principal not found`), PERMISSION_DENIED 403 (`principal status is pending`,
 * `principal has been revoked`), INTERNAL 500 (answered `internal server error`); an unknown status becomes
 * HttpError 500 `unknown principal status`. Each 401 counts as a failure against the client address.
 */
export function createJwtHttpAuthenticator(options: JwtHttpAuthenticatorOptions): HttpAuthenticator {
  const { resolver, lockout } = options;
  const log = options.log ?? silentLogger;

  return {
    async authenticate({ authorization, ip }): Promise<HttpPrincipal> {
      if (!resolver.isAuthEnabled) return resolver.resolveAuthorization(undefined);
      try {
        checkHttpLockout(lockout, ip);
      } catch (err) {
        log.debug("HTTP authentication refused: address locked out", { address: ip });
        throw err;
      }
      try {
        const principal = await resolver.resolveAuthorization(authorization);
        lockout.recordSuccess(ip);
        return principal;
      } catch (err) {
        if (isGatewayError(err, "UNAUTHENTICATED")) {
          lockout.recordFailure(ip);
          log.debug("HTTP authentication failed", { address: ip, reason: err.message });
        }
        throw err;
      }
    },
  };
}
