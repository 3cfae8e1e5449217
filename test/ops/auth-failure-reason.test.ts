// ABOUTME: The auth-failure label of ops.md §1.4 follows each refusal's GatewayError.reason, never its wording:
// ABOUTME: the same text under different reasons gets different labels, and reworded refusals keep theirs.
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { authFailureReason } from "../../src/ops/auth-failure-reason.js";

describe("authFailureReason", () => {
  it("labels by reason whatever the message says", () => {
    const refused = (code: "UNAUTHENTICATED" | "PERMISSION_DENIED", reason: ConstructorParameters<typeof GatewayError>[2]) =>
      authFailureReason(new GatewayError(code, "some reworded text", reason));
    expect(refused("PERMISSION_DENIED", { reason: "principal_revoked" })).toBe("revoked");
    expect(refused("PERMISSION_DENIED", { reason: "principal_pending" })).toBe("pending");
    expect(refused("UNAUTHENTICATED", { reason: "credential_missing" })).toBe("missing");
    expect(refused("UNAUTHENTICATED", { reason: "missing_authorization" })).toBe("missing");
    expect(refused("UNAUTHENTICATED", { reason: "unknown_public_key" })).toBe("unknown_key");
    expect(refused("UNAUTHENTICATED", { reason: "principal_not_found" })).toBe("unknown_key");
    expect(refused("UNAUTHENTICATED", { reason: "signature_expired" })).toBe("expired");
    expect(refused("UNAUTHENTICATED", { reason: "timestamp_in_future" })).toBe("skew");
    expect(refused("UNAUTHENTICATED", { reason: "nonce_replayed" })).toBe("replay");
    expect(refused("UNAUTHENTICATED", { reason: "bad_signature" })).toBe("bad_signature");
  });

  it("does not infer a label from wording alone", () => {
    expect(authFailureReason(new GatewayError("PERMISSION_DENIED", "principal has been revoked"))).toBeUndefined();
    expect(authFailureReason(new GatewayError("UNAUTHENTICATED", "missing SSH nonce"))).toBe("invalid");
    expect(authFailureReason(new GatewayError("UNAUTHENTICATED", "SSH auth failed: nonce already used"))).toBe("invalid");
  });

  it("maps an expired JWT by its cause's code and ignores errors that are no credential refusal", () => {
    const expired = Object.assign(new Error("exp"), { code: "ERR_JWT_EXPIRED" });
    expect(authFailureReason(new GatewayError("UNAUTHENTICATED", "invalid token", { cause: expired }))).toBe("expired");
    expect(authFailureReason(new GatewayError("RESOURCE_EXHAUSTED", "too many failed attempts"))).toBeUndefined();
    expect(authFailureReason(new Error("boom"))).toBeUndefined();
  });
});
