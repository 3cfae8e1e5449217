// ABOUTME: Response shapes of the web admin's XHR endpoints: compact JSON with one trailing newline (no charset,
// ABOUTME: like the HTTP API) and plain-text errors such as `Invalid request`.
import type { FastifyReply } from "fastify";

/** Compact JSON + `\n`, `Content-Type: application/json` (a Buffer keeps fastify from adding a charset). */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header("content-type", "application/json").send(Buffer.from(`${JSON.stringify(body)}\n`, "utf8"));
}

/** `{"error": message}`. */
export function sendJsonError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return sendJson(reply, status, { error: message });
}

/** Plain text, `text/plain; charset=utf-8`. */
export function sendText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).header("content-type", "text/plain; charset=utf-8").send(text);
}
