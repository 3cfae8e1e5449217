// ABOUTME: Validation of the identity inputs callers send: self-registration names/fingerprints, CreatePrincipal keys.
// ABOUTME: Each check throws GatewayError INVALID_ARGUMENT with the exact text of auth.md §2/§13 and services.md.
import { GatewayError, describeError } from "../lib/gateway-error.js";
import { parseAuthorizedKey } from "./ssh-key.js";

/** Longest self-registration display name, in UTF-8 bytes (auth.md §13). */
export const MAX_DISPLAY_NAME_BYTES = 100;

const DISPLAY_NAME_RE = /^[A-Za-z0-9_.\- \t\n\f\r]+$/;
const HEX_RE = /^[0-9a-fA-F]+$/;
const FINGERPRINT_RE = /^[0-9a-fA-F]{64}$/;

function invalid(message: string, cause?: unknown): GatewayError {
  return new GatewayError("INVALID_ARGUMENT", message, { cause });
}

/**
 * Checks a `RegisterAgent`/`RegisterClient` display name (auth.md §13) and returns it unchanged.
 * Throws GatewayError INVALID_ARGUMENT `display_name required`, `display_name cannot be only whitespace`,
 * `display_name exceeds 100 characters` or `display_name contains invalid characters (...)`.
 */
export function validateRegistrationDisplayName(displayName: string): string {
  if (displayName === "") throw invalid("display_name required");
  if (displayName.trim() === "") throw invalid("display_name cannot be only whitespace");
  if (Buffer.byteLength(displayName, "utf8") > MAX_DISPLAY_NAME_BYTES) throw invalid("display_name exceeds 100 characters");
  if (!DISPLAY_NAME_RE.test(displayName)) {
    throw invalid("display_name contains invalid characters (allowed: alphanumeric, hyphens, underscores, periods, spaces)");
  }
  return displayName;
}

/**
 * Checks a self-registration fingerprint (auth.md §13) and returns it lowercased. Throws GatewayError
 * INVALID_ARGUMENT `fingerprint required`, `fingerprint must be 64 hex characters (SHA256)` or
 * `fingerprint must be valid hex characters`.
 */
export function validateRegistrationFingerprint(fingerprint: string): string {
  if (fingerprint === "") throw invalid("fingerprint required");
  if (fingerprint.length !== 64) throw invalid("fingerprint must be 64 hex characters (SHA256)");
  if (!HEX_RE.test(fingerprint)) throw invalid("fingerprint must be valid hex characters");
  return fingerprint.toLowerCase();
}

/**
 * The fingerprint a `CreatePrincipal` request names (services.md step 3): a non-empty `pubkey` (one
 * authorized_keys line) wins, else a non-empty `pubkeyFp` (64 hex, lowercased); undefined when neither is set.
 * Throws GatewayError INVALID_ARGUMENT `invalid pubkey: <reason>` or
 * `invalid pubkey_fp: must be 64 hex characters (SHA256)`.
 */
export function fingerprintFromKeyInput(pubkey: string | undefined, pubkeyFp: string | undefined): string | undefined {
  if (pubkey !== undefined && pubkey !== "") {
    try {
      return parseAuthorizedKey(pubkey).fingerprint;
    } catch (err) {
      throw invalid(`invalid pubkey: ${describeError(err)}`, err);
    }
  }
  if (pubkeyFp !== undefined && pubkeyFp !== "") {
    if (!FINGERPRINT_RE.test(pubkeyFp)) throw invalid("invalid pubkey_fp: must be 64 hex characters (SHA256)");
    return pubkeyFp.toLowerCase();
  }
  return undefined;
}
