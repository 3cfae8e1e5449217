// ABOUTME: The reusable gates of web admin routes: an admin session (page → 303 /login, XHR → 401 JSON) and
// ABOUTME: double-submit CSRF (403 `Invalid request`). Any route module mounts them as preHandler hooks.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import type { AdminSession, AdminSessions } from "./admin-sessions.js";
import { CSRF_COOKIE, parseCookieHeader } from "./cookies.js";
import { csrfMatches } from "./csrf.js";
import { readFormFields, type FormFields } from "./form-body.js";
import { sendJsonError, sendText } from "./web-reply.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The web admin session, set by the session gate on S routes; null elsewhere. */
    adminSession: AdminSession | null;
  }
}

export const NOT_AUTHENTICATED = "not authenticated";
export const CSRF_FAILED = "Invalid request";

/** How an unauthenticated request is answered: pages redirect to the login, XHR/JSON endpoints get 401. */
export type GateKind = "page" | "xhr";

/** The `coven_admin_csrf` cookie of the request. */
export function csrfCookieOf(request: FastifyRequest): string | undefined {
  return parseCookieHeader(request.headers.cookie).get(CSRF_COOKIE);
}

/**
 * True when the request carries the CSRF cookie and the same value in the body field `csrf_token` (form or JSON)
 * or else the `X-CSRF-Token` header. `fields` avoids reading the body twice.
 */
export function hasValidCsrf(request: FastifyRequest, fields?: FormFields): boolean {
  const cookie = csrfCookieOf(request);
  const body = fields ?? readFormFields(request);
  const field = body?.get("csrf_token") ?? "";
  if (field !== "") return csrfMatches(cookie, field);
  const header = request.headers["x-csrf-token"];
  return csrfMatches(cookie, typeof header === "string" ? header : undefined);
}

/** 401 `{"error":"not authenticated"}` as compact JSON. */
export function sendNotAuthenticated(reply: FastifyReply): FastifyReply {
  return sendJsonError(reply, 401, NOT_AUTHENTICATED);
}

/** 403 text `Invalid request`. */
export function sendCsrfFailure(reply: FastifyReply): FastifyReply {
  return sendText(reply, 403, CSRF_FAILED);
}

/** The gates, bound to one session service. */
export interface AdminGuard {
  /** Requires a session; sets `request.adminSession`. */
  session(kind: GateKind): preHandlerAsyncHookHandler;
  /** Requires a session, then a valid CSRF token (S+C routes). */
  sessionAndCsrf(kind: GateKind): preHandlerAsyncHookHandler;
  /** The session of a request from its cookie, without answering anything. */
  current(request: FastifyRequest): Promise<AdminSession | undefined>;
}

/** Builds the gates over `sessions`. A store failure while resolving the session propagates (→ 500 handler). */
export function createAdminGuard(sessions: AdminSessions): AdminGuard {
  const current = async (request: FastifyRequest) => sessions.resolveCookieHeader(request.headers.cookie);
  const requireSession = (kind: GateKind) =>
    async function adminSessionGate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const session = await current(request);
      if (session === undefined) {
        if (kind === "xhr") await sendNotAuthenticated(reply);
        else await reply.code(303).header("location", "/login").send();
        return;
      }
      request.adminSession = session;
    };
  return {
    session: requireSession,
    sessionAndCsrf(kind) {
      const gate = requireSession(kind);
      return async function adminSessionCsrfGate(request, reply) {
        await gate.call(this, request, reply);
        if (reply.sent) return;
        if (!hasValidCsrf(request)) await sendCsrfFailure(reply);
      };
    },
    current,
  };
}
