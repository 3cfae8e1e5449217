// ABOUTME: The one table from a GatewayError code to its HTTP status (http-api.md §2), shared by the JSON API and the
// ABOUTME: web admin so the two edges cannot answer the same failure differently.
import type { ErrorCode } from "./gateway-error.js";

/** GatewayError code -> HTTP status. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELED: 499,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};
