// ABOUTME: Writes the HTTP API's response shapes: compact JSON with one trailing newline, plain text, empty 405.
// ABOUTME: Also holds the exact Content-Security-Policy value every response carries (http-api.md §1).
import type { FastifyReply } from "fastify";
import type { OutgoingHttpHeaders } from "node:http";

/** The one CSP header value, on every response (no dev-mode variant). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
  "img-src 'self' data:; font-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/** Body of a 404 for an unknown path (reference behaviour). */
export const NOT_FOUND_TEXT = "404 page not found\n";

/**
 * Sends `body` as compact JSON ending with exactly one `\n`, `Content-Type: application/json` (no charset
 * parameter). Keys keep their insertion order, so callers build objects in the order the spec lists them.
 * A Buffer payload keeps fastify from appending `; charset=utf-8`.
 */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return sendJsonBytes(reply, status, Buffer.from(`${JSON.stringify(body)}\n`, "utf8"));
}

/** Sends an already serialized JSON body (with its final newline) as `application/json`. */
export function sendJsonBytes(reply: FastifyReply, status: number, body: Buffer): FastifyReply {
  return reply.code(status).header("content-type", "application/json").send(body);
}

/** Sends `{"error": message}` with the given status. */
export function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return sendJson(reply, status, { error: message });
}

/** Sends `text` as `text/plain; charset=utf-8`. */
export function sendText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).header("content-type", "text/plain; charset=utf-8").send(text);
}

/** 405 with an empty body and no `Allow` header (reference behaviour clients rely on). */
export function sendMethodNotAllowed(reply: FastifyReply): FastifyReply {
  return reply.code(405).send();
}

/** The headers set on `reply` so far (the CSP at least), for responses written on the hijacked raw response. */
export function pendingHeaders(reply: FastifyReply): OutgoingHttpHeaders {
  return reply.getHeaders() as OutgoingHttpHeaders;
}
