// ABOUTME: What every web admin route module shares: its dependencies, the session gate and the page renderer
// ABOUTME: (HTML headers, the CSRF cookie on first render, the layout chrome of a signed-in page).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { SafeHtml } from "../../web-admin/templates/html.js";
import type { PageChrome } from "../../web-admin/templates/layout.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import type { StoreExecutor } from "../store/transaction.js";
import type { AdminGuard } from "./admin-guard.js";
import { csrfCookieOf } from "./admin-guard.js";
import type { AdminSession, AdminSessions } from "./admin-sessions.js";
import { csrfCookie } from "./cookies.js";
import { isWellFormedCsrfToken, newCsrfToken } from "./csrf.js";
import { noticeText } from "./notices.js";

export interface WebContext {
  db: StoreExecutor;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  sessions: AdminSessions;
  guard: AdminGuard;
  /** The public base URL, no trailing slash (invite links, cookie `Secure`). */
  baseUrl(): string;
  version: string;
  /** Pending tool approvals across agents, for the sidebar badge. */
  pendingApprovalCount(): Promise<number>;
  /** Counts a refused sign-in: wrong username or password, unknown passkey, failed passkey verification. */
  authFailed(reason: WebAuthFailure): void;
}

/** The `reason` labels a web admin sign-in can fail with (ops.md §1.4). */
export type WebAuthFailure = "invalid" | "unknown_key" | "bad_signature";

/** True when cookies must be `Secure`: the request came over TLS, or the public base URL is https. */
export function isSecureRequest(ctx: WebContext, request: FastifyRequest): boolean {
  return request.protocol === "https" || ctx.baseUrl().startsWith("https:");
}

/** The request's CSRF token; a fresh one (and its Set-Cookie on `reply`) when the cookie is missing. */
export function ensureCsrfToken(ctx: WebContext, request: FastifyRequest, reply: FastifyReply): string {
  const existing = csrfCookieOf(request);
  if (isWellFormedCsrfToken(existing)) return existing;
  const token = newCsrfToken();
  appendSetCookie(reply, csrfCookie(token, isSecureRequest(ctx, request)));
  return token;
}

/** Adds one Set-Cookie header without dropping earlier ones. */
export function appendSetCookie(reply: FastifyReply, cookie: string): void {
  const prior = reply.getHeader("set-cookie");
  const list = prior === undefined ? [] : Array.isArray(prior) ? prior.map(String) : [String(prior)];
  reply.header("set-cookie", [...list, cookie]);
}

/** Sends `page` (built with the request's CSRF token) as HTML with `status`. */
export function sendPage(
  ctx: WebContext,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  page: (csrfToken: string) => SafeHtml,
): FastifyReply {
  const token = ensureCsrfToken(ctx, request, reply);
  return reply.code(status).header("content-type", "text/html; charset=utf-8").send(page(token).value);
}

/** The signed-in layout's chrome for this request (`error` for a re-rendered form). */
export async function pageChrome(
  ctx: WebContext,
  request: FastifyRequest,
  csrfToken: string,
  active: string,
  error?: string,
): Promise<PageChrome> {
  const session = request.adminSession as AdminSession;
  const query = (request.query ?? {}) as Record<string, unknown>;
  return {
    csrfToken,
    displayName: session.user.displayName || session.user.username,
    version: ctx.version,
    active,
    pendingApprovals: await ctx.pendingApprovalCount(),
    notice: noticeText(query),
    error,
  };
}

/**
 * Renders a signed-in page: resolves the chrome first (it reads the store), then sends. `build` gets the chrome,
 * whose `csrfToken` the forms embed.
 */
export async function sendLayoutPage(
  ctx: WebContext,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { status?: number; active: string; error?: string | undefined },
  build: (chrome: PageChrome) => SafeHtml,
): Promise<FastifyReply> {
  const token = ensureCsrfToken(ctx, request, reply);
  const chrome = await pageChrome(ctx, request, token, options.active, options.error);
  return reply
    .code(options.status ?? 200)
    .header("content-type", "text/html; charset=utf-8")
    .send(build(chrome).value);
}

/** `303 Location: <path>` with an optional one-shot notice code. */
export function redirectWithNotice(reply: FastifyReply, path: string, notice?: string, extra: Record<string, string> = {}): FastifyReply {
  let location = path;
  if (notice !== undefined) {
    const params = new URLSearchParams({ notice, ...extra });
    location += `${path.includes("?") ? "&" : "?"}${params.toString()}`;
  }
  return reply.code(303).header("location", location).send();
}
