// ABOUTME: Maps a refused credential's GatewayError to the closed `reason` label of coven_auth_failures_total (ops.md §1.4).
// ABOUTME: Errors that are not credential refusals (lockout, internal faults, missing roles) map to undefined.
import { isGatewayError } from "../lib/gateway-error.js";
import type { AuthFailureReason } from "./gateway-metrics.js";

function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}

/** The failure reason of an authentication error, or undefined when `err` is no credential refusal. */
export function authFailureReason(err: unknown): AuthFailureReason | undefined {
  if (!isGatewayError(err)) return undefined;
  const m = err.message;
  if (err.code === "PERMISSION_DENIED") {
    if (m === "principal has been revoked") return "revoked";
    if (m.startsWith("principal status is pending") || m.includes("pending")) return "pending";
    return undefined;
  }
  if (err.code !== "UNAUTHENTICATED") return undefined;
  if (m.startsWith("missing ") || m === "authentication required" || m === "not authenticated") return "missing";
  if (m === "unknown public key" || m === "principal not found") return "unknown_key";
  if (m.includes("signature expired")) return "expired";
  if (m.includes("timestamp is in the future")) return "skew";
  if (m.includes("nonce already used")) return "replay";
  if (m.includes("signature verification failed")) return "bad_signature";
  if (m === "invalid token" && causeCode(err) === "ERR_JWT_EXPIRED") return "expired";
  return "invalid";
}
