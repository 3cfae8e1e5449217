// ABOUTME: The one mapping table from domain errors to gRPC statuses, with redaction of unknown errors.
// ABOUTME: Unknown failures are logged with their cause and reach the caller as INTERNAL "internal error".
import { Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import { GatewayError, type ErrorCode, type ErrorReason } from "../lib/gateway-error.js";
import { isRefusal } from "../lib/refusal.js";
import type { Logger } from "../lib/logger.js";

const CODE_TO_STATUS: Record<"OK" | ErrorCode, GrpcStatus> = {
  OK: GrpcStatus.OK,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  CANCELED: GrpcStatus.CANCELLED,
  INTERNAL: GrpcStatus.INTERNAL,
};

/**
 * The gRPC wording of failures whose domain message is the HTTP one (auth.md §7, §8, §10); the resolver carries
 * the reason and the detail, this table alone says what a gRPC caller reads.
 */
const GRPC_TEXT_BY_REASON: Partial<Record<ErrorReason, (err: GatewayError) => string>> = {
  empty_token: () => "invalid or expired token",
  invalid_token: () => "invalid or expired token",
  principal_pending: () => "principal status is pending - admin approval required",
  unknown_principal_status: (err) => `unknown principal status: ${err.detail ?? ""}`,
  principal_lookup_failed: (err) => `failed to lookup principal: ${err.detail ?? ""}`,
  role_lookup_failed: (err) => `failed to lookup roles: ${err.detail ?? ""}`,
};

/** `err` with its gRPC wording when its reason has one (same code, reason and cause); anything else as it is. */
export function withGrpcWording(err: unknown): unknown {
  if (!(err instanceof GatewayError) || err.reason === undefined) return err;
  const text = GRPC_TEXT_BY_REASON[err.reason];
  if (text === undefined) return err;
  const worded = text(err);
  if (worded === err.message) return err;
  return new GatewayError(err.code, worded, { cause: err.cause, reason: err.reason, detail: err.detail });
}

/** The gRPC status number of a domain code. */
export function grpcStatusOf(code: "OK" | ErrorCode): GrpcStatus {
  return CODE_TO_STATUS[code];
}

/** A grpc-js ServiceError-like object for `callback(err)` / `call.emit("error", err)`. */
export interface GrpcStatusError {
  code: GrpcStatus;
  details: string;
  message: string;
  /** Trailing metadata, e.g. `retry-after-ms` of a rate-limit or maintenance refusal (ops.md §2, §4.5). */
  metadata?: Metadata;
}

/** Maps any thrown value to a gRPC status; non-GatewayErrors are logged and redacted. */
export function toGrpcError(err: unknown, log: Logger, context: Record<string, unknown> = {}): GrpcStatusError {
  if (err instanceof GatewayError) {
    const worded = withGrpcWording(err) as GatewayError;
    const status: GrpcStatusError = { code: CODE_TO_STATUS[worded.code], details: worded.message, message: worded.message };
    if (isRefusal(err) && err.retryAfterMs !== undefined) {
      status.metadata = new Metadata();
      status.metadata.set("retry-after-ms", String(err.retryAfterMs));
    }
    return status;
  }
  log.error("unexpected error in gRPC handler", { ...context, cause: err });
  return { code: GrpcStatus.INTERNAL, details: "internal error", message: "internal error" };
}
