// ABOUTME: Tests the x-ssh-* verifier: the spec's byte vector, every check of auth.md §5 in order, every message.
// ABOUTME: Keys come from node:crypto (Ed25519, RSA 2048, ECDSA) and ssh-keygen; the clock is injected.
import { createPrivateKey, sign as cryptoSign, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/lib/clock.js";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { createNonceCache } from "../../src/auth/nonce-cache.js";
import { parseAuthorizedKey } from "../../src/auth/ssh-key.js";
import {
  createSshVerifier,
  hasSshCredentials,
  parseSshTimestamp,
  sshSignedBytes,
  type SshAuthMetadata,
} from "../../src/auth/ssh-signature.js";
import { createSshSigner, encodeSshSignature, randomSshNonce } from "../support/ssh-signer.js";
import { OPENSSH_ECDSA256_PRIVATE_PEM, OPENSSH_KEYS, SPEC_ED25519, specEd25519PrivateKey } from "./ssh-vectors.js";
import { testKeyPair } from "../support/key-pairs.js";

const SPEC_TS_MS = Number(SPEC_ED25519.timestamp) * 1000;

function clockAt(ms: number): Clock & { ms: number } {
  return {
    ms,
    now() {
      return new Date(this.ms);
    },
  };
}

const SPEC_METADATA: SshAuthMetadata = {
  "x-ssh-pubkey": SPEC_ED25519.authorizedKey,
  "x-ssh-signature": SPEC_ED25519.wireSignatureBase64,
  "x-ssh-timestamp": SPEC_ED25519.timestamp,
  "x-ssh-nonce": SPEC_ED25519.nonce,
};

/** Runs one verification on a fresh verifier at `nowMs` and returns the error message (or "ok"). */
function outcome(metadata: SshAuthMetadata, nowMs = SPEC_TS_MS): string {
  try {
    createSshVerifier({ clock: clockAt(nowMs) }).verify(metadata);
    return "ok";
  } catch (err) {
    expect(isGatewayError(err, "UNAUTHENTICATED")).toBe(true);
    return (err as Error).message;
  }
}

function rsaKey(): KeyObject {
  return testKeyPair("rsa-2048").privateKey;
}

describe("the auth.md §5.2 worked example", () => {
  it("signs exactly the spec's bytes into the spec's wire signature", () => {
    expect(sshSignedBytes(1_700_000_000n, SPEC_ED25519.nonce).toString("ascii")).toBe(SPEC_ED25519.signedBytes);
    const signer = createSshSigner(specEd25519PrivateKey(), { comment: "example@coven" });
    const metadata = signer.sign(1_700_000_000, SPEC_ED25519.nonce);
    expect(metadata).toEqual(SPEC_METADATA);
    const wire = Buffer.from(SPEC_ED25519.wireSignatureBase64, "base64");
    expect(wire.length).toBe(83);
    expect(wire.subarray(-64).toString("hex")).toBe(SPEC_ED25519.signatureHex);
  });

  it("verifies with an injected clock and returns the fingerprint and key", () => {
    const verified = createSshVerifier({ clock: clockAt(SPEC_TS_MS + 1_000) }).verify(SPEC_METADATA);
    expect(verified.fingerprint).toBe(SPEC_ED25519.fingerprint);
    expect(verified.publicKey.type).toBe("ssh-ed25519");
  });

  it("is long expired against the real clock", () => {
    expect(() => createSshVerifier().verify(SPEC_METADATA)).toThrow(/^SSH auth failed: signature expired \(age: \d+h\d+m[\d.]+s, max: 5m0s\)$/);
  });
});

describe("missing values (checks 1-4, in order)", () => {
  it("names the first missing value", () => {
    expect(outcome({})).toBe("missing SSH public key");
    expect(outcome({ ...SPEC_METADATA, "x-ssh-pubkey": " \t " })).toBe("missing SSH public key");
    expect(outcome({ ...SPEC_METADATA, "x-ssh-pubkey": "", "x-ssh-signature": "" })).toBe("missing SSH public key");
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": "  " })).toBe("missing SSH signature");
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": "", "x-ssh-nonce": "" })).toBe("missing SSH signature");
    expect(outcome({ ...SPEC_METADATA, "x-ssh-timestamp": undefined, "x-ssh-nonce": "" })).toBe("missing SSH timestamp");
    expect(outcome({ ...SPEC_METADATA, "x-ssh-nonce": " " })).toBe("missing SSH nonce");
  });

  it("treats an unparsable timestamp, spaces included, as 0", () => {
    for (const ts of ["0", "", " 1700000000", "1700000000 ", "17e8", "abc", "1_700_000_000", "9223372036854775808", "0x10"]) {
      expect(outcome({ ...SPEC_METADATA, "x-ssh-timestamp": ts })).toBe("missing SSH timestamp");
    }
  });

  it("parses the timestamp as a signed 64-bit decimal", () => {
    expect(parseSshTimestamp("+1700000000")).toBe(1_700_000_000n);
    expect(parseSshTimestamp("-5")).toBe(-5n);
    expect(parseSshTimestamp("00042")).toBe(42n);
    expect(parseSshTimestamp("9223372036854775807")).toBe(2n ** 63n - 1n);
    expect(parseSshTimestamp("-9223372036854775808")).toBe(-(2n ** 63n));
  });
});

describe("public key (check 5)", () => {
  it("reports the parser reason", () => {
    expect(outcome({ ...SPEC_METADATA, "x-ssh-pubkey": OPENSSH_KEYS.dsa.line })).toBe(
      'SSH auth failed: invalid public key: unsupported key type "ssh-dss"',
    );
    expect(outcome({ ...SPEC_METADATA, "x-ssh-pubkey": "ssh-ed25519 !!!!" })).toMatch(
      /^SSH auth failed: invalid public key: invalid base64 key data: /,
    );
  });

  it("is checked before the time window", () => {
    expect(outcome({ ...SPEC_METADATA, "x-ssh-pubkey": "garbage" }, 0)).toBe("SSH auth failed: invalid public key: no key type found");
  });

  it("trims the pubkey value", () => {
    expect(outcome({ ...SPEC_METADATA, "x-ssh-pubkey": `  ${SPEC_ED25519.authorizedKey}\n` })).toBe("ok");
  });
});

describe("time window (checks 6-7)", () => {
  it("accepts up to 60 s ahead and refuses beyond", () => {
    expect(outcome(SPEC_METADATA, SPEC_TS_MS - 60_000)).toBe("ok");
    expect(outcome(SPEC_METADATA, SPEC_TS_MS - 60_001)).toBe("SSH auth failed: timestamp is in the future");
  });

  it("accepts up to 5 min old and reports the age in Go syntax beyond", () => {
    expect(outcome(SPEC_METADATA, SPEC_TS_MS + 300_000)).toBe("ok");
    expect(outcome(SPEC_METADATA, SPEC_TS_MS + 300_001)).toBe("SSH auth failed: signature expired (age: 5m0.001s, max: 5m0s)");
    expect(outcome(SPEC_METADATA, SPEC_TS_MS + 360_250)).toBe("SSH auth failed: signature expired (age: 6m0.25s, max: 5m0s)");
    expect(outcome(SPEC_METADATA, SPEC_TS_MS + 3_600_000)).toBe("SSH auth failed: signature expired (age: 1h0m0s, max: 5m0s)");
  });

  it("is checked before the signature", () => {
    const junk = { ...SPEC_METADATA, "x-ssh-signature": "%%%" };
    expect(outcome(junk, SPEC_TS_MS + 400_000)).toMatch(/^SSH auth failed: signature expired/);
    expect(outcome(junk, SPEC_TS_MS - 120_000)).toBe("SSH auth failed: timestamp is in the future");
  });

  it("saturates the age like Go for absurd timestamps", () => {
    expect(outcome({ ...SPEC_METADATA, "x-ssh-timestamp": "-9223372036854775808" })).toBe(
      "SSH auth failed: signature expired (age: 2562047h47m16.854775807s, max: 5m0s)",
    );
    expect(outcome({ ...SPEC_METADATA, "x-ssh-timestamp": "9223372036854775807" })).toBe("SSH auth failed: timestamp is in the future");
  });
});

describe("replay cache (checks 8 and 12)", () => {
  it("refuses the same fingerprint, timestamp and nonce twice", () => {
    const verifier = createSshVerifier({ clock: clockAt(SPEC_TS_MS) });
    verifier.verify(SPEC_METADATA);
    expect(() => verifier.verify(SPEC_METADATA)).toThrow("SSH auth failed: nonce already used (possible replay attack)");
  });

  it("keys on the parsed timestamp and trimmed nonce, and signs the re-rendered timestamp", () => {
    const verifier = createSshVerifier({ clock: clockAt(SPEC_TS_MS) });
    verifier.verify({ ...SPEC_METADATA, "x-ssh-timestamp": "+01700000000", "x-ssh-nonce": ` ${SPEC_ED25519.nonce} ` });
    expect(() => verifier.verify(SPEC_METADATA)).toThrow(/nonce already used/);
  });

  it("checks the cache before decoding the signature", () => {
    const verifier = createSshVerifier({ clock: clockAt(SPEC_TS_MS) });
    verifier.verify(SPEC_METADATA);
    expect(() => verifier.verify({ ...SPEC_METADATA, "x-ssh-signature": "%%%" })).toThrow(/nonce already used/);
  });

  it("records the nonce only after the signature verified", () => {
    const cache = createNonceCache({ clock: clockAt(SPEC_TS_MS) });
    const verifier = createSshVerifier({ clock: clockAt(SPEC_TS_MS), nonceCache: cache });
    const forged = Buffer.from(SPEC_ED25519.wireSignatureBase64, "base64");
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 1;
    expect(() => verifier.verify({ ...SPEC_METADATA, "x-ssh-signature": forged.toString("base64") })).toThrow(/did not verify/);
    expect(cache.size).toBe(0);
    expect(verifier.verify(SPEC_METADATA).fingerprint).toBe(SPEC_ED25519.fingerprint);
    expect(cache.has(`${SPEC_ED25519.fingerprint}:${SPEC_ED25519.timestamp}:${SPEC_ED25519.nonce}`)).toBe(true);
  });

  it("lets the same nonce through for a different key", () => {
    const verifier = createSshVerifier({ clock: clockAt(SPEC_TS_MS) });
    verifier.verify(SPEC_METADATA);
    const other = createSshSigner(testKeyPair("ed25519").privateKey);
    expect(verifier.verify(other.sign(1_700_000_000, SPEC_ED25519.nonce)).fingerprint).toBe(other.fingerprint);
  });
});

describe("signature encoding and format (checks 9-10)", () => {
  it("requires strict standard base64", () => {
    const unpadded = SPEC_ED25519.wireSignatureBase64.replace(/=+$/, "");
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": unpadded })).toMatch(/^SSH auth failed: invalid signature encoding: /);
    const nonCanonical = SPEC_ED25519.wireSignatureBase64.replace(/s=$/, "t=");
    expect(nonCanonical).not.toBe(SPEC_ED25519.wireSignatureBase64);
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": nonCanonical })).toMatch(/^SSH auth failed: invalid signature encoding: /);
    const wrapped = `${SPEC_ED25519.wireSignatureBase64.slice(0, 40)}\n${SPEC_ED25519.wireSignatureBase64.slice(40)}`;
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": wrapped })).toMatch(/^SSH auth failed: invalid signature encoding: /);
  });

  it("trims the signature value", () => {
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": ` ${SPEC_ED25519.wireSignatureBase64}\n` })).toBe("ok");
  });

  it("requires two SSH strings", () => {
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": "AAAA" })).toMatch(/^SSH auth failed: invalid signature format: /);
    const oneString = Buffer.from(SPEC_ED25519.wireSignatureBase64, "base64").subarray(0, 15);
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": oneString.toString("base64") })).toMatch(
      /^SSH auth failed: invalid signature format: short read of signature blob length$/,
    );
  });

  it("ignores bytes after the two strings", () => {
    const padded = Buffer.concat([Buffer.from(SPEC_ED25519.wireSignatureBase64, "base64"), Buffer.from("tail")]);
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": padded.toString("base64") })).toBe("ok");
  });
});

describe("signature verification (check 11)", () => {
  const nowSeconds = 1_700_000_000;

  it("refuses a signature by another key", () => {
    const other = createSshSigner(testKeyPair("ed25519").privateKey);
    expect(outcome({ ...SPEC_METADATA, "x-ssh-pubkey": other.authorizedKey })).toBe(
      "SSH auth failed: signature verification failed: ssh: signature did not verify",
    );
  });

  it("refuses tampered nonce, timestamp or signature bytes", () => {
    const failed = "SSH auth failed: signature verification failed: ssh: signature did not verify";
    expect(outcome({ ...SPEC_METADATA, "x-ssh-nonce": "00112233445566778899aabbccddeefe" })).toBe(failed);
    expect(outcome({ ...SPEC_METADATA, "x-ssh-timestamp": "1700000001" })).toBe(failed);
    const flipped = Buffer.from(SPEC_ED25519.wireSignatureBase64, "base64");
    flipped[40] = flipped[40]! ^ 0x80;
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": flipped.toString("base64") })).toBe(failed);
  });

  it("refuses an Ed25519 signature of the wrong size", () => {
    const short = encodeSshSignature("ssh-ed25519", Buffer.from(SPEC_ED25519.signatureHex, "hex").subarray(0, 63));
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": short.toString("base64") })).toBe(
      "SSH auth failed: signature verification failed: ssh: invalid size 63 for Ed25519 signature",
    );
  });

  it("refuses a format that does not match the key", () => {
    const asRsa = encodeSshSignature("rsa-sha2-256", Buffer.from(SPEC_ED25519.signatureHex, "hex"));
    expect(outcome({ ...SPEC_METADATA, "x-ssh-signature": asRsa.toString("base64") })).toBe(
      "SSH auth failed: signature verification failed: ssh: signature type rsa-sha2-256 for key type ssh-ed25519",
    );
  });

  it("verifies RSA rsa-sha2-256 and rsa-sha2-512", () => {
    const key = rsaKey();
    for (const rsaFormat of ["rsa-sha2-256", "rsa-sha2-512"] as const) {
      const signer = createSshSigner(key, { rsaFormat });
      const verified = createSshVerifier({ clock: clockAt(nowSeconds * 1000) }).verify(signer.sign(nowSeconds));
      expect(verified.publicKey.type).toBe("ssh-rsa");
      expect(verified.fingerprint).toBe(signer.fingerprint);
    }
  });

  it("refuses SHA-1 ssh-rsa signatures even when valid", () => {
    const key = rsaKey();
    const signer = createSshSigner(key);
    const nonce = randomSshNonce();
    const sha1 = cryptoSign("sha1", Buffer.from(`${nowSeconds}|${nonce}`), key);
    const metadata = { ...signer.sign(nowSeconds, nonce), "x-ssh-signature": encodeSshSignature("ssh-rsa", sha1).toString("base64") };
    expect(outcome(metadata, nowSeconds * 1000)).toBe(
      "SSH auth failed: signature verification failed: ssh: signature algorithm ssh-rsa (SHA-1) is not accepted",
    );
  });

  it("refuses a non-RSA format for an RSA key and an RSA signature longer than the modulus", () => {
    const signer = createSshSigner(rsaKey());
    const base = signer.sign(nowSeconds);
    const edFormat = encodeSshSignature("ssh-ed25519", Buffer.alloc(64));
    expect(outcome({ ...base, "x-ssh-signature": edFormat.toString("base64") }, nowSeconds * 1000)).toBe(
      "SSH auth failed: signature verification failed: ssh: signature type ssh-ed25519 for key type ssh-rsa",
    );
    const long = encodeSshSignature("rsa-sha2-256", Buffer.alloc(257, 1));
    expect(outcome({ ...base, "x-ssh-signature": long.toString("base64") }, nowSeconds * 1000)).toBe(
      "SSH auth failed: signature verification failed: ssh: rsa signature longer than the modulus",
    );
  });

  it("left-pads an RSA signature blob shorter than the modulus", () => {
    const key = rsaKey();
    const signer = createSshSigner(key);
    const verifier = createSshVerifier({ clock: clockAt(nowSeconds * 1000) });
    for (let attempt = 0; attempt < 5000; attempt += 1) {
      const nonce = randomSshNonce();
      const raw = cryptoSign("sha256", Buffer.from(`${nowSeconds}|${nonce}`), key);
      if (raw[0] !== 0) continue;
      const stripped = encodeSshSignature("rsa-sha2-256", raw.subarray(1));
      const metadata = { ...signer.sign(nowSeconds, nonce), "x-ssh-signature": stripped.toString("base64") };
      expect(verifier.verify(metadata).fingerprint).toBe(signer.fingerprint);
      return;
    }
    throw new Error("no RSA signature with a leading zero byte in 5000 attempts");
  });

  it("verifies ECDSA P-256 (ssh-keygen key) and P-521 signatures", () => {
    const openssh = createSshSigner(createPrivateKey(OPENSSH_ECDSA256_PRIVATE_PEM));
    expect(parseAuthorizedKey(openssh.authorizedKey).fingerprint).toBe(OPENSSH_KEYS.ecdsa256.fingerprint);
    const p521 = createSshSigner(testKeyPair("p521").privateKey);
    for (const signer of [openssh, p521]) {
      const metadata = { ...signer.sign(nowSeconds), "x-ssh-pubkey": signer.authorizedKey };
      expect(createSshVerifier({ clock: clockAt(nowSeconds * 1000) }).verify(metadata).fingerprint).toBe(signer.fingerprint);
    }
    const pubkeyFromSshKeygen = { ...openssh.sign(nowSeconds), "x-ssh-pubkey": OPENSSH_KEYS.ecdsa256.line };
    expect(outcome(pubkeyFromSshKeygen, nowSeconds * 1000)).toBe("ok");
  });

  it("refuses a malformed ECDSA signature blob", () => {
    const signer = createSshSigner(createPrivateKey(OPENSSH_ECDSA256_PRIVATE_PEM));
    const bad = encodeSshSignature("ecdsa-sha2-nistp256", Buffer.from([0, 0, 0, 1]));
    expect(outcome({ ...signer.sign(nowSeconds), "x-ssh-signature": bad.toString("base64") }, nowSeconds * 1000)).toMatch(
      /^SSH auth failed: signature verification failed: /,
    );
  });
});

describe("hasSshCredentials", () => {
  it("is true when any x-ssh-* value is non-empty", () => {
    expect(hasSshCredentials({})).toBe(false);
    expect(hasSshCredentials({ "x-ssh-pubkey": "", "x-ssh-nonce": "" })).toBe(false);
    expect(hasSshCredentials({ "x-ssh-nonce": "n" })).toBe(true);
    expect(hasSshCredentials({ "x-ssh-timestamp": " " })).toBe(true);
  });
});
