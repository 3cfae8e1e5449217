// ABOUTME: Mints and verifies the gateway's HS256 bearer tokens (claims exactly sub/iat/exp, auth.md §7).
// ABOUTME: The secret is the configured string's UTF-8 bytes, at least 32 of them; the clock is injectable.
import { jwtVerify, SignJWT } from "jose";
import { systemClock, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";

/** Minimum secret length in UTF-8 bytes (auth.md §1). */
export const MIN_JWT_SECRET_BYTES = 32;
/** TTL used when none is given or it is ≤ 0: 30 days (auth.md §7). */
export const DEFAULT_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Largest accepted TTL: 365 days (auth.md §7, `AdminService.CreateToken`). */
export const MAX_TOKEN_TTL_SECONDS = 31_536_000;
/** Verification accepts the HMAC family only: never `none` or an asymmetric algorithm. */
const ACCEPTED_ALGORITHMS = ["HS256", "HS384", "HS512"];

export interface JwtServiceOptions {
  /** `auth.jwt_secret`, used as its UTF-8 bytes (never base64-decoded). */
  secret: string;
  clock?: Clock;
}

export interface MintedToken {
  token: string;
  expiresAt: Date;
}

export interface VerifiedToken {
  principalId: string;
  expiresAt: Date;
}

export interface JwtService {
  /**
   * Signs `{sub, iat, exp}` with HS256. `ttlSeconds` missing or ≤ 0 means 30 days.
   * Throws GatewayError INVALID_ARGUMENT `principal_id required` or `ttl_seconds exceeds maximum of 31536000`.
   */
  mint(principalId: string, ttlSeconds?: number): Promise<MintedToken>;
  /**
   * Checks signature (HS256/384/512), `exp` (required, `now < exp`, no leeway), `nbf` if present and a
   * non-empty string `sub`. Throws GatewayError UNAUTHENTICATED `invalid token` on any failure.
   */
  verify(token: string): Promise<VerifiedToken>;
}

/** Applies the TTL rules of auth.md §7; throws GatewayError INVALID_ARGUMENT above the 365-day maximum. */
export function resolveTokenTtlSeconds(ttlSeconds: number | undefined): number {
  const ttl = Math.trunc(ttlSeconds ?? 0);
  if (!(ttl > 0)) return DEFAULT_TOKEN_TTL_SECONDS;
  if (ttl > MAX_TOKEN_TTL_SECONDS) throw new GatewayError("INVALID_ARGUMENT", `ttl_seconds exceeds maximum of ${MAX_TOKEN_TTL_SECONDS}`);
  return ttl;
}

/**
 * Creates the JWT service. Throws GatewayError INVALID_ARGUMENT `JWT secret must be at least 32 bytes` when the
 * secret is shorter, so a misconfigured gateway fails at startup.
 */
export function createJwtService(options: JwtServiceOptions): JwtService {
  const key = new TextEncoder().encode(options.secret);
  if (key.byteLength < MIN_JWT_SECRET_BYTES) {
    throw new GatewayError("INVALID_ARGUMENT", `JWT secret must be at least ${MIN_JWT_SECRET_BYTES} bytes`);
  }
  const clock = options.clock ?? systemClock;

  return {
    async mint(principalId, ttlSeconds) {
      if (principalId === "") throw new GatewayError("INVALID_ARGUMENT", "principal_id required");
      const ttl = resolveTokenTtlSeconds(ttlSeconds);
      const issuedAt = Math.floor(clock.now().getTime() / 1000);
      const expiresAt = issuedAt + ttl;
      const token = await new SignJWT({ sub: principalId, iat: issuedAt, exp: expiresAt })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .sign(key);
      return { token, expiresAt: new Date(expiresAt * 1000) };
    },

    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ACCEPTED_ALGORITHMS,
          currentDate: clock.now(),
          requiredClaims: ["exp", "sub"],
        });
        if (typeof payload.sub !== "string" || payload.sub === "" || typeof payload.exp !== "number") {
          throw new Error("sub must be a non-empty string");
        }
        return { principalId: payload.sub, expiresAt: new Date(payload.exp * 1000) };
      } catch (err) {
        throw new GatewayError("UNAUTHENTICATED", "invalid token", { cause: err });
      }
    },
  };
}
