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

/** A failure whose message is safe to show to the caller; `code` decides the status at each edge. */
export class GatewayError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GatewayError";
    this.code = code;
  }
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
