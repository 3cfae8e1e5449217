// ABOUTME: QR device pairing (issue 14, docs/pairing.md): an admin mints a 5-minute single-use token shown as a
// ABOUTME: coven://pair deep link and QR code; the app enrolls its device key with it and gets a `client` principal.
import { createHash, randomBytes as cryptoRandomBytes } from "node:crypto";
import { isIP } from "node:net";
import QRCode from "qrcode";
import { isoTimestamp, systemClock, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";
import { randomIds, type IdSource } from "../lib/ids.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import { createAuditRepository } from "../store/audit-repository.js";
import { createPairTokenRepository, type PairToken } from "../store/pair-token-repository.js";
import { inTransaction, type StoreExecutor } from "../store/transaction.js";
import { ensureDevicePrincipal } from "./device-principal.js";
import { createFailureWindow, type FailureWindow } from "./failure-window.js";
import type { Lockout } from "./lockout.js";

/** A token is valid this long after it was minted. */
export const PAIR_TOKEN_TTL_MS = 5 * 60_000;
/** An address with this many failed enrollments within the window is refused (`too many attempts`). */
export const PAIR_MAX_FAILURES = 5;
export const PAIR_FAILURE_WINDOW_MS = 60_000;
/** Random bytes per token (base64url without padding: 43 characters). */
export const PAIR_TOKEN_BYTES = 32;
/** The gRPC port the app assumes when the deep link has no `port`. */
export const DEFAULT_APP_GRPC_PORT = 50051;
/** Longest device_name, in UTF-8 bytes (the limit RegisterAgent/RegisterClient use, auth.md §13). */
export const MAX_DEVICE_NAME_BYTES = 100;
/** The QR code PNG is this many pixels square. */
export const PAIR_QR_SIZE_PX = 256;
/**
 * QR code rendering: medium error correction, a 256 px PNG. The library sizes the image as
 * floor(modules × (width / modules)), which float rounding can put at 255, hence the hair over 256.
 */
export const PAIR_QR_OPTIONS = Object.freeze({ errorCorrectionLevel: "M", width: PAIR_QR_SIZE_PX + 1e-6, type: "image/png" } as const);

/** The exact `{"error": …}` reasons of `POST /api/link/pair`, in check order. */
export const PAIR_TEXT = Object.freeze({
  tooManyAttempts: "too many attempts",
  invalidBody: "invalid request: body",
  invalidToken: "invalid request: token",
  invalidFingerprint: "invalid request: fingerprint",
  invalidDeviceName: "invalid request: device_name",
  unknownToken: "invalid token",
  alreadyUsed: "token already used",
  expired: "token expired",
  internal: "internal error",
});

/** The 409 text of a mint whose public base URL names an IP address (TLS cannot cover one). */
export function ipLiteralHostText(baseUrl: string): string {
  return `gateway base URL "${baseUrl}" is an IP literal; set webadmin.base_url or COVEN_GATEWAY_URL to the tailnet DNS name`;
}

/** What the app sends to enroll; `undefined` stands for an unparsable body. */
export interface PairEnrollRequest {
  token: string;
  fingerprint: string;
  deviceName: string;
}

/** The mint response: the deep link, its QR code as a PNG data URL, and when the token expires (RFC 3339 UTC). */
export interface MintedPairToken {
  url: string;
  qr: string;
  expiresAt: string;
  /** The pair_tokens row id (not secret; audit target). */
  id: string;
}

export interface PairingService {
  /**
   * Mints a token for the web admin user `admin`: deletes expired tokens, stores only the token's SHA-256, audits
   * `mint_pair_token` (target `pair_token`, detail username and expires_at) in the same transaction. Throws
   * GatewayError FAILED_PRECONDITION with `ipLiteralHostText` when the public base URL's host is an IP literal
   * (nothing is stored), INTERNAL `internal error` on store failures.
   */
  mint(admin: { id: string; username: string }): Promise<MintedPairToken>;
  /**
   * Enrolls a device from client `address`, checking in the documented order. Every rejection is GatewayError
   * UNAUTHENTICATED with one of the PAIR_TEXT reasons (each, except `too many attempts`, counts as a failure of
   * the address); a store failure is INTERNAL `internal error` (once claimed, the token stays used). Returns the
   * principal: the one already holding the fingerprint, or a new `client` one.
   */
  enroll(address: string, request: PairEnrollRequest | undefined): Promise<{ principalId: string; isNewPrincipal: boolean }>;
}

export interface PairingServiceOptions {
  db: StoreExecutor;
  /** The public base URL (config.md §5.1), known once the HTTP listener is bound. */
  publicBaseUrl: () => string;
  /** The gRPC port apps connect to (the bound one). */
  grpcPort: () => number;
  /** The shared brute-force lockout (auth.md §14a): failures are reported to it, a locked address is refused. */
  lockout?: Pick<Lockout, "recordFailure" | "retryAfterSeconds">;
  clock?: Clock;
  ids?: IdSource;
  log?: Logger;
  /** Randomness for tokens; defaults to node:crypto. */
  randomBytes?: (size: number) => Uint8Array;
  ttlMs?: number;
  maxFailures?: number;
  failureWindowMs?: number;
}

/** Lowercase-hex SHA-256 of the token's UTF-8 bytes: the only form stored. */
export function hashPairToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Escapes like Go's url.QueryEscape: everything but `A-Z a-z 0-9 - _ . ~` is percent-encoded, space as `+`.
 */
export function queryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

/**
 * The deep link `coven://pair?v=1&host=<host>&port=<port>&token=<token>`; `&port=` is left out for 50051.
 */
export function pairDeepLink(host: string, grpcPort: number, token: string): string {
  const port = grpcPort === DEFAULT_APP_GRPC_PORT ? "" : `&port=${grpcPort}`;
  return `coven://pair?v=1&host=${queryEscape(host)}${port}&token=${queryEscape(token)}`;
}

/**
 * The host of the public base URL, or undefined when it is an IP literal (IPv4, or bracketed IPv6). Throws
 * GatewayError INVALID_ARGUMENT for a URL that does not parse (a validated config never has one).
 */
export function pairingHost(baseUrl: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(baseUrl).hostname;
  } catch (err) {
    throw new GatewayError("INVALID_ARGUMENT", `gateway base URL "${baseUrl}" is not a URL`, { cause: err });
  }
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? hostname : undefined;
}

const FINGERPRINT_RE = /^[0-9a-fA-F]{64}$/;

/** Creates the service. Throws nothing at creation. */
export function createPairingService(options: PairingServiceOptions): PairingService {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  const log = options.log ?? silentLogger;
  const draw = options.randomBytes ?? ((size: number) => cryptoRandomBytes(size));
  const ttlMs = options.ttlMs ?? PAIR_TOKEN_TTL_MS;
  const failures: FailureWindow = createFailureWindow({
    limit: options.maxFailures ?? PAIR_MAX_FAILURES,
    windowMs: options.failureWindowMs ?? PAIR_FAILURE_WINDOW_MS,
    clock,
  });

  const internal = (what: string, cause: unknown): GatewayError => {
    log.error(what, { cause });
    return new GatewayError("INTERNAL", PAIR_TEXT.internal, { cause });
  };

  /** A counted rejection: the address gets one more failure, the caller a 401 reason. */
  const reject = (address: string, reason: string): GatewayError => {
    failures.recordFailure(address);
    options.lockout?.recordFailure(address);
    log.debug("pair enrollment refused", { address, reason });
    return new GatewayError("UNAUTHENTICATED", reason);
  };

  const validationFailure = (request: PairEnrollRequest | undefined): string | undefined => {
    if (request === undefined) return PAIR_TEXT.invalidBody;
    if (request.token === "") return PAIR_TEXT.invalidToken;
    if (!FINGERPRINT_RE.test(request.fingerprint)) return PAIR_TEXT.invalidFingerprint;
    if (request.deviceName === "" || Buffer.byteLength(request.deviceName, "utf8") > MAX_DEVICE_NAME_BYTES) {
      return PAIR_TEXT.invalidDeviceName;
    }
    return undefined;
  };

  return {
    async mint(admin) {
      const baseUrl = options.publicBaseUrl();
      const host = pairingHost(baseUrl);
      if (host === undefined) throw new GatewayError("FAILED_PRECONDITION", ipLiteralHostText(baseUrl));
      const token = Buffer.from(draw(PAIR_TOKEN_BYTES)).toString("base64url");
      const now = clock.now();
      const createdAt = isoTimestamp(now);
      const expiresAt = isoTimestamp(new Date(now.getTime() + ttlMs));
      const url = pairDeepLink(host, options.grpcPort(), token);
      let qr: string;
      try {
        qr = await QRCode.toDataURL(url, { ...PAIR_QR_OPTIONS }); // a copy: the library writes defaults into it
      } catch (err) {
        throw internal("rendering the pairing QR code failed", err);
      }
      let stored: PairToken;
      try {
        stored = await inTransaction(db, async (trx) => {
          const tokens = createPairTokenRepository(trx);
          await tokens.deleteExpired(createdAt);
          const row = await tokens.insert({ id: ids.uuid(), tokenHash: hashPairToken(token), createdBy: admin.id, createdAt, expiresAt });
          await createAuditRepository(trx).record({
            actor: `webadmin:${admin.id}`,
            action: "mint_pair_token",
            targetType: "pair_token",
            targetId: row.id,
            detail: { username: admin.username, expires_at: expiresAt },
            now: createdAt,
          });
          return row;
        });
      } catch (err) {
        throw internal("storing a pairing token failed", err);
      }
      log.info("pairing token minted", { pair_token_id: stored.id, username: admin.username, expires_at: expiresAt });
      return { url, qr, expiresAt, id: stored.id };
    },

    async enroll(address, request) {
      const isLocked = (options.lockout?.retryAfterSeconds(address) ?? 0) > 0;
      if (isLocked || failures.isBlocked(address)) throw new GatewayError("UNAUTHENTICATED", PAIR_TEXT.tooManyAttempts);
      const invalid = validationFailure(request);
      if (invalid !== undefined || request === undefined) throw reject(address, invalid ?? PAIR_TEXT.invalidBody);

      const now = clock.now();
      const stamp = isoTimestamp(now);
      const tokens = createPairTokenRepository(db);
      let row: PairToken | undefined;
      try {
        // Look the token up before sweeping, so an expired token is reported as expired once, then forgotten.
        row = await tokens.findByHash(hashPairToken(request.token));
        await tokens.deleteExpired(stamp);
      } catch (err) {
        throw internal("looking up a pairing token failed", err);
      }
      if (row === undefined) throw reject(address, PAIR_TEXT.unknownToken);
      if (row.usedAt !== undefined) throw reject(address, PAIR_TEXT.alreadyUsed);
      if (now.getTime() >= Date.parse(row.expiresAt)) throw reject(address, PAIR_TEXT.expired);
      let isClaimed: boolean;
      try {
        isClaimed = await tokens.claim(row.id, stamp);
      } catch (err) {
        throw internal("claiming a pairing token failed", err);
      }
      if (!isClaimed) throw reject(address, PAIR_TEXT.alreadyUsed);

      // Claimed: from here on the token is spent whatever happens (fail closed).
      const token = row;
      try {
        const enrolled = await inTransaction(db, async (trx) => {
          const result = await ensureDevicePrincipal(trx, {
            fingerprint: request.fingerprint,
            deviceName: request.deviceName,
            actor: `webadmin:${token.createdBy}`,
            detail: { pair_token_id: token.id },
            now: stamp,
            ids,
          });
          await createPairTokenRepository(trx).setPrincipal(token.id, result.principalId);
          await createAuditRepository(trx).record({
            actor: result.principalId,
            action: "pair_enroll",
            targetType: "principal",
            targetId: result.principalId,
            detail: { device_name: request.deviceName, pair_token_id: token.id, reused_principal: !result.isNewPrincipal },
            now: stamp,
          });
          return result;
        });
        log.info("device paired", {
          principal_id: enrolled.principalId,
          pair_token_id: token.id,
          reused_principal: !enrolled.isNewPrincipal,
        });
        return enrolled;
      } catch (err) {
        throw internal("enrolling a paired device failed", err);
      }
    },
  };
}
