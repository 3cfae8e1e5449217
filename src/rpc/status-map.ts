// ABOUTME: The one mapping table from domain errors to gRPC statuses, with redaction of unknown errors.
// ABOUTME: Unknown failures are logged with their cause and reach the caller as INTERNAL "internal error".
import { Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import { GatewayError, type ErrorCode } from "../lib/gateway-error.js";
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
    const status: GrpcStatusError = { code: CODE_TO_STATUS[err.code], details: err.message, message: err.message };
    if (isRefusal(err) && err.retryAfterMs !== undefined) {
      status.metadata = new Metadata();
      status.metadata.set("retry-after-ms", String(err.retryAfterMs));
    }
    return status;
  }
  log.error("unexpected error in gRPC handler", { ...context, cause: err });
  return { code: GrpcStatus.INTERNAL, details: "internal error", message: "internal error" };
}
