// ABOUTME: Maps a refused credential's GatewayError to the closed `reason` label of coven_auth_failures_total (ops.md §1.4).
// ABOUTME: Errors that are not credential refusals (lockout, internal faults, missing roles) map to undefined.
import { isGatewayError, type ErrorReason } from "../lib/gateway-error.js";
import type { AuthFailureReason } from "./gateway-metrics.js";

function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}

/** Each credential refusal's reason (GatewayError.reason) to its label; wording never decides a label. */
const LABELS: Partial<Record<ErrorReason, AuthFailureReason>> = {
  principal_revoked: "revoked",
  principal_pending: "pending",
  missing_authorization: "missing",
  credential_missing: "missing",
  principal_not_found: "unknown_key",
  unknown_public_key: "unknown_key",
  signature_expired: "expired",
  timestamp_in_future: "skew",
  nonce_replayed: "replay",
  bad_signature: "bad_signature",
};

/** The failure reason of an authentication error, or undefined when `err` is no credential refusal. */
export function authFailureReason(err: unknown): AuthFailureReason | undefined {
  if (!isGatewayError(err)) return undefined;
  const label = err.reason === undefined ? undefined : LABELS[err.reason];
  if (label !== undefined) return label;
  if (err.code !== "UNAUTHENTICATED") return undefined;
  if (causeCode(err) === "ERR_JWT_EXPIRED") return "expired";
  return "invalid";
}
