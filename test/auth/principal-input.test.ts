// ABOUTME: Tests the identity input checks: self-registration display names and fingerprints, CreatePrincipal keys.
// ABOUTME: Exact texts and their order come from auth.md §2, §13 and services.md.
import { describe, expect, it } from "vitest";
import {
  fingerprintFromKeyInput,
  validateRegistrationDisplayName,
  validateRegistrationFingerprint,
} from "../../src/auth/principal-input.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { SPEC_ED25519 } from "./ssh-vectors.js";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe("INVALID_ARGUMENT");
    return (err as GatewayError).message;
  }
  throw new Error("expected a failure");
}

describe("validateRegistrationDisplayName", () => {
  it("accepts ASCII letters, digits, - _ . and ASCII whitespace up to 100 bytes", () => {
    expect(validateRegistrationDisplayName("My-agent_1.0 \t\n\f\r")).toBe("My-agent_1.0 \t\n\f\r");
    expect(validateRegistrationDisplayName("a".repeat(100))).toBe("a".repeat(100));
  });

  it("rejects empty, whitespace-only, too long and other characters in that order", () => {
    expect(messageOf(() => validateRegistrationDisplayName(""))).toBe("display_name required");
    expect(messageOf(() => validateRegistrationDisplayName("   "))).toBe("display_name cannot be only whitespace");
    expect(messageOf(() => validateRegistrationDisplayName("a".repeat(101)))).toBe("display_name exceeds 100 characters");
    expect(messageOf(() => validateRegistrationDisplayName("ü".repeat(51)))).toBe("display_name exceeds 100 characters");
    const invalid = "display_name contains invalid characters (allowed: alphanumeric, hyphens, underscores, periods, spaces)";
    for (const name of ["a/b", "ü", "a\u00a0b", "a\vb", "name!"]) expect(messageOf(() => validateRegistrationDisplayName(name))).toBe(invalid);
  });
});

describe("validateRegistrationFingerprint", () => {
  it("lowercases a valid fingerprint and rejects empty, wrong length and non-hex", () => {
    expect(validateRegistrationFingerprint("AB".repeat(32))).toBe("ab".repeat(32));
    expect(messageOf(() => validateRegistrationFingerprint(""))).toBe("fingerprint required");
    expect(messageOf(() => validateRegistrationFingerprint("ab"))).toBe("fingerprint must be 64 hex characters (SHA256)");
    expect(messageOf(() => validateRegistrationFingerprint("xy".repeat(32)))).toBe("fingerprint must be valid hex characters");
  });
});

describe("fingerprintFromKeyInput", () => {
  it("prefers pubkey over pubkey_fp and fingerprints the authorized_keys line", () => {
    expect(fingerprintFromKeyInput(SPEC_ED25519.authorizedKey, "f".repeat(64))).toBe(SPEC_ED25519.fingerprint);
  });

  it("lowercases pubkey_fp and returns undefined when neither is set", () => {
    expect(fingerprintFromKeyInput(undefined, "AB".repeat(32))).toBe("ab".repeat(32));
    expect(fingerprintFromKeyInput("", "")).toBeUndefined();
    expect(fingerprintFromKeyInput(undefined, undefined)).toBeUndefined();
  });

  it("rejects an unparsable pubkey and a malformed pubkey_fp", () => {
    expect(messageOf(() => fingerprintFromKeyInput("ssh-dss AAAA", undefined))).toMatch(/^invalid pubkey: .+/);
    expect(messageOf(() => fingerprintFromKeyInput(undefined, "abc"))).toBe("invalid pubkey_fp: must be 64 hex characters (SHA256)");
    expect(messageOf(() => fingerprintFromKeyInput(undefined, "g".repeat(64)))).toBe("invalid pubkey_fp: must be 64 hex characters (SHA256)");
  });
});
