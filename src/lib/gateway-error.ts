// ABOUTME: The one domain error type, carrying a closed gRPC-vocabulary code set.
// ABOUTME: Edges (gRPC, HTTP, MCP) map these codes; anything else is redacted as internal.

/** The closed set of domain error codes, named after their gRPC status equivalents. */
export type ErrorCode =
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "INVALID_ARGUMENT"
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED"
  | "FAILED_PRECONDITION"
  | "RESOURCE_EXHAUSTED"
  | "UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "CANCELED"
  | "INTERNAL";

/**
 * Stable names for failures whose wording or status differs between edges. The domain's message is the default
 * wording; each edge's one mapping table (rpc/status-map.ts, http/http-errors.ts, the ws edge) maps a reason to
 * its own wording, so no edge compares message text.
 */
export type ErrorReason =
  | "missing_authorization"
  | "malformed_authorization"
  | "empty_token"
  | "invalid_token"
  | "principal_not_found"
  | "principal_pending"
  | "principal_revoked"
  | "unknown_principal_status"
  | "principal_lookup_failed"
  | "role_lookup_failed"
  | "approval_send_failed"
  | "events_fetch_failed"
  /** A device-link INTERNAL failure whose text (LINK_TEXT) the spec lists. */
  | "link_failed"
  /** A device link that is no longer pending (approved, denied or expired): 400 on the web admin, not 500. */
  | "link_already_processed"
  /** No credential was offered (an SSH field, a WS hello or session, a binding's principal). */
  | "credential_missing"
  /** SSH agent auth: the key is not registered and auto-registration is off. */
  | "unknown_public_key"
  /** SSH agent auth refusals, the `reason` labels of coven_auth_failures_total (ops.md §1.4). */
  | "signature_expired"
  | "timestamp_in_future"
  | "nonce_replayed"
  | "bad_signature";

export interface GatewayErrorOptions {
  cause?: unknown;
  reason?: ErrorReason;
  /** A value an edge's wording may include (an unknown status, a store error's text); never shown by default. */
  detail?: string;
}

/** A failure whose message is safe to show to the caller; `code` decides the status at each edge. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly reason: ErrorReason | undefined;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options?: GatewayErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.reason = options?.reason;
    this.detail = options?.detail;
  }
}

/** True when `err` is a GatewayError carrying `reason`. */
export function hasReason(err: unknown, reason: ErrorReason): err is GatewayError {
  return err instanceof GatewayError && err.reason === reason;
}

/** True when `err` is a GatewayError, optionally with the given code. */
export function isGatewayError(err: unknown, code?: ErrorCode): err is GatewayError {
  return err instanceof GatewayError && (code === undefined || err.code === code);
}

/** Renders any thrown value as text for logs (never for clients). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
