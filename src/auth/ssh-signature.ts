// ABOUTME: Verifies the x-ssh-* credentials agents send on gRPC calls (auth.md §5): checks 1-12 in spec order.
// ABOUTME: Transport-agnostic: takes a plain record of metadata values and returns the verified key.
import { verify as cryptoVerify } from "node:crypto";
import { systemClock, type Clock } from "../lib/clock.js";
import { GatewayError, describeError, type ErrorReason } from "../lib/gateway-error.js";
import { formatGoDurationMs } from "./go-duration.js";
import { createNonceCache, type NonceCache } from "./nonce-cache.js";
import { ecdsaCurveOf, parseAuthorizedKey, type SshPublicKey } from "./ssh-key.js";
import { decodeStrictBase64, leftPad, SshWireReader } from "./ssh-wire.js";

/** The gRPC metadata keys carrying SSH credentials (lowercase, as gRPC delivers them). */
export type SshMetadataKey = "x-ssh-pubkey" | "x-ssh-signature" | "x-ssh-timestamp" | "x-ssh-nonce";
export const SSH_METADATA_KEYS: readonly SshMetadataKey[] = ["x-ssh-pubkey", "x-ssh-signature", "x-ssh-timestamp", "x-ssh-nonce"];

/** The first value of each `x-ssh-*` metadata key, if present. */
export type SshAuthMetadata = Readonly<Partial<Record<SshMetadataKey, string>>>;

/** A key whose signature verified. */
export interface VerifiedSshKey {
  fingerprint: string;
  publicKey: SshPublicKey;
}

/** A decoded SSH wire signature: `string format` ‖ `string blob`. */
export interface SshSignature {
  format: string;
  blob: Buffer;
}

/** auth.md §5 checks 6 and 7. */
export const MAX_FUTURE_SKEW_MS = 60_000;
export const MAX_SIGNATURE_AGE_MS = 300_000;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** True when any `x-ssh-*` value is non-empty, which selects SSH auth over the bearer token (auth.md §4). */
export function hasSshCredentials(metadata: SshAuthMetadata): boolean {
  return SSH_METADATA_KEYS.some((key) => (metadata[key] ?? "") !== "");
}

/** Parses `x-ssh-timestamp` as Go's ParseInt(s, 10, 64): untrimmed, optional sign; anything unparsable is 0. */
export function parseSshTimestamp(value: string | undefined): bigint {
  if (value === undefined || !/^[+-]?[0-9]+$/.test(value)) return 0n;
  const parsed = BigInt(value);
  return parsed < INT64_MIN || parsed > INT64_MAX ? 0n : parsed;
}

/** The bytes the agent signs: ASCII `<timestamp>|<nonce>`, the timestamp as a plain decimal integer. */
export function sshSignedBytes(timestamp: bigint, nonce: string): Buffer {
  const rendered = (timestamp < 0n ? -timestamp : timestamp).toString();
  return Buffer.from(`${rendered}|${nonce}`, "utf8");
}

/** The replay-cache key `<fingerprint>:<timestamp>:<nonce>` (auth.md §5.1). */
export function sshReplayKey(fingerprint: string, timestamp: bigint, nonce: string): string {
  return `${fingerprint}:${timestamp}:${nonce}`;
}

/** Decodes an SSH wire signature; bytes after the two strings are ignored. Throws GatewayError INVALID_ARGUMENT. */
export function parseSshSignature(bytes: Uint8Array): SshSignature {
  const reader = new SshWireReader(bytes);
  const format = reader.readText("signature format");
  const blob = reader.readString("signature blob");
  return { format, blob };
}

function verifyEcdsaBlob(key: SshPublicKey, blob: Buffer, data: Buffer): boolean {
  const curve = ecdsaCurveOf(key.type)!;
  const reader = new SshWireReader(blob);
  const r = leftPad(reader.readUnsignedMpint("ecdsa r"), curve.size);
  const s = leftPad(reader.readUnsignedMpint("ecdsa s"), curve.size);
  if (reader.remaining !== 0) throw new Error("ssh: trailing data in ecdsa signature");
  if (r === undefined || s === undefined) throw new Error("ssh: ecdsa signature value too large for the curve");
  return cryptoVerify(curve.hash, data, { key: key.keyObject, dsaEncoding: "ieee-p1363" }, Buffer.concat([r, s]));
}

function verifyRsaBlob(key: SshPublicKey, format: string, blob: Buffer, data: Buffer): boolean {
  if (format === "ssh-rsa") throw new Error("ssh: signature algorithm ssh-rsa (SHA-1) is not accepted");
  if (format !== "rsa-sha2-256" && format !== "rsa-sha2-512") throw new Error(`ssh: signature type ${format} for key type ssh-rsa`);
  const modulusBits = key.keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
  const padded = leftPad(blob, Math.ceil(modulusBits / 8));
  if (padded === undefined) throw new Error("ssh: rsa signature longer than the modulus");
  return cryptoVerify(format === "rsa-sha2-256" ? "sha256" : "sha512", data, key.keyObject, padded);
}

/**
 * Checks that `signature` is an accepted format for `key` (auth.md §5 table; SHA-1 `ssh-rsa` refused) and that
 * it verifies over `data`. Throws a plain Error whose message is the detail of check 11.
 */
export function verifySshSignature(key: SshPublicKey, signature: SshSignature, data: Buffer): void {
  const { format, blob } = signature;
  let isValid: boolean;
  if (key.type === "ssh-rsa") {
    isValid = verifyRsaBlob(key, format, blob, data);
  } else if (format !== key.type) {
    throw new Error(`ssh: signature type ${format} for key type ${key.type}`);
  } else if (key.type === "ssh-ed25519") {
    if (blob.length !== 64) throw new Error(`ssh: invalid size ${blob.length} for Ed25519 signature`);
    isValid = cryptoVerify(null, data, key.keyObject, blob);
  } else {
    isValid = verifyEcdsaBlob(key, blob, data);
  }
  if (!isValid) throw new Error("ssh: signature did not verify");
}

export interface SshVerifierOptions {
  clock?: Clock;
  /** The process-wide replay cache; a fresh one on the same clock when omitted. */
  nonceCache?: NonceCache;
}

export interface SshVerifier {
  /**
   * Runs auth.md §5 checks 1-12 on the `x-ssh-*` values and records the replay key on success.
   * Throws GatewayError UNAUTHENTICATED with the spec's exact message for the first failing check.
   */
  verify(metadata: SshAuthMetadata): VerifiedSshKey;
}

function unauthenticated(message: string, reason?: ErrorReason, cause?: unknown): GatewayError {
  return new GatewayError("UNAUTHENTICATED", message, { cause, ...(reason === undefined ? {} : { reason }) });
}

/**
 * Creates the SSH credential verifier. Principal lookup by fingerprint (check 13) and auto-registration (§6)
 * are the caller's next step. Throws nothing at creation.
 */
export function createSshVerifier(options: SshVerifierOptions = {}): SshVerifier {
  const clock = options.clock ?? systemClock;
  const nonceCache = options.nonceCache ?? createNonceCache({ clock });

  return {
    verify(metadata) {
      const pubkey = (metadata["x-ssh-pubkey"] ?? "").trim();
      const signatureText = (metadata["x-ssh-signature"] ?? "").trim();
      const timestamp = parseSshTimestamp(metadata["x-ssh-timestamp"]);
      const nonce = (metadata["x-ssh-nonce"] ?? "").trim();
      if (pubkey === "") throw unauthenticated("missing SSH public key", "credential_missing");
      if (signatureText === "") throw unauthenticated("missing SSH signature", "credential_missing");
      if (timestamp === 0n) throw unauthenticated("missing SSH timestamp", "credential_missing");
      if (nonce === "") throw unauthenticated("missing SSH nonce", "credential_missing");

      let publicKey: SshPublicKey;
      try {
        publicKey = parseAuthorizedKey(pubkey);
      } catch (err) {
        throw unauthenticated(`SSH auth failed: invalid public key: ${describeError(err)}`, undefined, err);
      }

      const ageMs = BigInt(clock.now().getTime()) - timestamp * 1000n;
      if (ageMs < -BigInt(MAX_FUTURE_SKEW_MS)) throw unauthenticated("SSH auth failed: timestamp is in the future", "timestamp_in_future");
      if (ageMs > BigInt(MAX_SIGNATURE_AGE_MS)) {
        throw unauthenticated(`SSH auth failed: signature expired (age: ${formatGoDurationMs(ageMs)}, max: 5m0s)`, "signature_expired");
      }

      const replayKey = sshReplayKey(publicKey.fingerprint, timestamp, nonce);
      if (nonceCache.has(replayKey)) throw unauthenticated("SSH auth failed: nonce already used (possible replay attack)", "nonce_replayed");

      let signatureBytes: Buffer;
      try {
        signatureBytes = decodeStrictBase64(signatureText);
      } catch (err) {
        throw unauthenticated(`SSH auth failed: invalid signature encoding: ${describeError(err)}`, undefined, err);
      }
      let signature: SshSignature;
      try {
        signature = parseSshSignature(signatureBytes);
      } catch (err) {
        throw unauthenticated(`SSH auth failed: invalid signature format: ${describeError(err)}`, undefined, err);
      }
      try {
        verifySshSignature(publicKey, signature, sshSignedBytes(timestamp, nonce));
      } catch (err) {
        throw unauthenticated(`SSH auth failed: signature verification failed: ${describeError(err)}`, "bad_signature", err);
      }

      nonceCache.add(replayKey);
      return { fingerprint: publicKey.fingerprint, publicKey };
    },
  };
}
