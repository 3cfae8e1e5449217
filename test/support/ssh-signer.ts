// ABOUTME: Test-side client of auth.md §5: signs `<timestamp>|<nonce>` with a private key into x-ssh-* metadata.
// ABOUTME: Lives in test/support because only tests sign; the gateway itself only verifies (the fake agent has its own).
import { createPublicKey, randomBytes, sign as cryptoSign, type KeyObject } from "node:crypto";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { ecdsaCurveOf, formatAuthorizedKey, parseAuthorizedKey } from "../../src/auth/ssh-key.js";
import type { SshAuthMetadata } from "../../src/auth/ssh-signature.js";
import { encodeString, encodeUnsignedMpint } from "../../src/auth/ssh-wire.js";

export interface SshSignerOptions {
  /** RSA keys only: which SHA-2 signature format to produce (default `rsa-sha2-256`). */
  rsaFormat?: "rsa-sha2-256" | "rsa-sha2-512";
  /** Comment appended to the authorized_keys line. */
  comment?: string;
}

export interface SshSigner {
  /** The authorized_keys line sent as `x-ssh-pubkey`. */
  readonly authorizedKey: string;
  /** 64 lowercase hex characters. */
  readonly fingerprint: string;
  /** Fresh credentials for one call: timestamp in Unix seconds, nonce defaulting to 16 random bytes as hex. */
  sign(timestampSeconds: number, nonce?: string): Required<SshAuthMetadata>;
}

/** 32 lowercase hex characters (16 random bytes), the nonce coven-agent sends. */
export function randomSshNonce(): string {
  return randomBytes(16).toString("hex");
}

/** Encodes `string format` ‖ `string blob`, the SSH wire signature. */
export function encodeSshSignature(format: string, blob: Uint8Array): Buffer {
  return Buffer.concat([encodeString(format), encodeString(blob)]);
}

/**
 * Creates a signer for an Ed25519, RSA or ECDSA private key.
 * Throws GatewayError INVALID_ARGUMENT for a public key or an unsupported key type.
 */
export function createSshSigner(privateKey: KeyObject, options: SshSignerOptions = {}): SshSigner {
  if (privateKey.type !== "private") throw new GatewayError("INVALID_ARGUMENT", "an SSH signer needs a private key");
  const authorizedKey = formatAuthorizedKey(createPublicKey(privateKey), options.comment ?? "");
  const parsed = parseAuthorizedKey(authorizedKey);
  const rsaFormat = options.rsaFormat ?? "rsa-sha2-256";

  const signBytes = (data: Buffer): Buffer => {
    if (parsed.type === "ssh-ed25519") return encodeSshSignature("ssh-ed25519", cryptoSign(null, data, privateKey));
    if (parsed.type === "ssh-rsa") {
      return encodeSshSignature(rsaFormat, cryptoSign(rsaFormat === "rsa-sha2-256" ? "sha256" : "sha512", data, privateKey));
    }
    const curve = ecdsaCurveOf(parsed.type)!;
    const rs = cryptoSign(curve.hash, data, { key: privateKey, dsaEncoding: "ieee-p1363" });
    const blob = Buffer.concat([encodeUnsignedMpint(rs.subarray(0, curve.size)), encodeUnsignedMpint(rs.subarray(curve.size))]);
    return encodeSshSignature(parsed.type, blob);
  };

  return {
    authorizedKey,
    fingerprint: parsed.fingerprint,
    sign(timestampSeconds, nonce = randomSshNonce()) {
      const timestamp = String(Math.trunc(timestampSeconds));
      const signature = signBytes(Buffer.from(`${timestamp}|${nonce}`, "utf8"));
      return {
        "x-ssh-pubkey": authorizedKey,
        "x-ssh-signature": signature.toString("base64"),
        "x-ssh-timestamp": timestamp,
        "x-ssh-nonce": nonce,
      };
    },
  };
}
