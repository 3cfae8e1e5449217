// ABOUTME: The HTTP edge's one error mapping: GatewayError code -> status, route-specific HttpError, redaction.
// ABOUTME: Installed as fastify's error handler so no framework default message ever reaches a client.
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { HTTP_STATUS_BY_CODE } from "../lib/http-status.js";
import { isGatewayError, type ErrorReason } from "../lib/gateway-error.js";
import { isRefusal, retryAfterSeconds } from "../lib/refusal.js";
import type { Logger } from "../lib/logger.js";
import { CONTENT_SECURITY_POLICY, NOT_FOUND_TEXT, sendError, sendText } from "./http-reply.js";

/** The message every redacted 5xx carries. */
export const INTERNAL_SERVER_ERROR = "internal server error";

/**
 * An answer whose status is specific to one route and not implied by a GatewayError code (413, 422, a route's own
 * 500 string). The message is sent verbatim, so it must be one of the spec's exact strings.
 */
export class HttpError extends Error {
  readonly statusCode: number;
  /** Extra response headers (e.g. `Retry-After` on a lockout 429). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options);
    this.name = "HttpError";
    this.statusCode = statusCode;
    this.headers = Object.freeze({ ...options?.headers });
  }
}

/**
 * GatewayError code -> HTTP status. A GatewayError's message is safe to show, except INTERNAL, which is always
 * answered `internal server error` and logged.
 */
export const STATUS_BY_CODE = HTTP_STATUS_BY_CODE;

/**
 * INTERNAL failures whose text the spec lists for a route (http-api.md §2 unknown status, §12 approvals): answered
 * 500 with that text instead of redacted, and still logged.
 */
const SHOWN_INTERNAL_TEXT: Partial<Record<ErrorReason, string>> = {
  unknown_principal_status: "unknown principal status",
  approval_send_failed: "failed to send approval",
};

/** What the client sees for `err`, and whether the cause must be logged (every unexpected failure is). */
export function httpErrorOf(err: unknown): { status: number; message: string; isUnexpected: boolean } {
  if (err instanceof HttpError) {
    return { status: err.statusCode, message: err.message, isUnexpected: err.statusCode >= 500 };
  }
  // A budget refusal is 402, not 429: waiting does not help (ops.md §4.5).
  if (isRefusal(err) && err.kind === "budget") return { status: 402, message: err.message, isUnexpected: false };
  if (isGatewayError(err)) {
    const status = STATUS_BY_CODE[err.code];
    const shown = err.reason === undefined ? undefined : SHOWN_INTERNAL_TEXT[err.reason];
    return err.code === "INTERNAL"
      ? { status, message: shown ?? INTERNAL_SERVER_ERROR, isUnexpected: true }
      : { status, message: err.message, isUnexpected: false };
  }
  const code = (err as Partial<FastifyError> | undefined)?.code;
  if (code === "FST_ERR_CTP_BODY_TOO_LARGE") return { status: 413, message: "request body too large", isUnexpected: false };
  if (typeof code === "string" && code.startsWith("FST_ERR_CTP_")) {
    return { status: 400, message: "invalid JSON body", isUnexpected: false };
  }
  return { status: 500, message: INTERNAL_SERVER_ERROR, isUnexpected: true };
}

/**
 * Builds the app's error handler: maps through `httpErrorOf`, logs unexpected failures with their cause, and
 * answers a failure on an unknown path with the plain 404 (its body was never going to be read).
 */
export function createErrorHandler(log: Logger) {
  return function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
    reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
    if (request.is404) return sendText(reply, 404, NOT_FOUND_TEXT);
    const { status, message, isUnexpected } = httpErrorOf(err);
    if (isUnexpected) {
      const cause = err instanceof HttpError && err.cause !== undefined ? err.cause : err;
      log.error("http request failed", { method: request.method, path: request.url.split("?")[0], status, cause });
    }
    if (reply.raw.headersSent) {
      reply.raw.destroy();
      return undefined;
    }
    if (status === 413) reply.header("connection", "close");
    if (err instanceof HttpError) for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
    if (isRefusal(err) && err.retryAfterMs !== undefined) reply.header("retry-after", String(retryAfterSeconds(err.retryAfterMs)));
    return sendError(reply, status, message);
  };
}
