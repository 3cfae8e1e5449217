// ABOUTME: The builtin-pack data pages (web-admin.md §5.11-5.13): activity logs with search, todos, and the
// ABOUTME: discussion board across all agents. Read-only GETs behind a session; limits are clamped, never errors.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { boardPage, boardThreadPage, logsPage, todosPage } from "../../web-admin/templates/activity-pages.js";
import type { SafeHtml } from "../../web-admin/templates/html.js";
import { notFoundPage, type PageChrome } from "../../web-admin/templates/layout.js";
import { createPackDataReadRepository } from "../store/pack-data-read-repository.js";
import { sendLayoutPage, type WebContext } from "./web-context.js";

/** Page sizes of §5.11-5.13: the default and the largest accepted `limit`. */
export const ACTIVITY_LIMITS = {
  logs: { default: 100, max: 500 },
  todos: { default: 100, max: 500 },
  board: { default: 50, max: 200 },
} as const;

/**
 * The `limit` query value: a positive integer is used up to `max` (larger ones are clamped to `max`); anything
 * else (missing, empty, not an integer, zero or negative) falls back to the default, as the reference did.
 */
export function parseLimit(value: unknown, bounds: { default: number; max: number }): number {
  if (typeof value !== "string" || !/^\d+$/.test(value.trim())) return bounds.default;
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n) || n < 1) return bounds.default;
  return Math.min(n, bounds.max);
}

export function activityRoutes(ctx: WebContext) {
  const read = createPackDataReadRepository(ctx.db);
  const page = (request: FastifyRequest, reply: FastifyReply, active: string, build: (chrome: PageChrome) => SafeHtml, status?: number) =>
    sendLayoutPage(ctx, request, reply, { active, status }, build);
  const query = (request: FastifyRequest) => (request.query ?? {}) as Record<string, unknown>;

  return async function registerActivityRoutes(app: FastifyInstance): Promise<void> {
    const get = { preHandler: ctx.guard.session("page") };

    // §5.11 activity logs: `q` is a literal substring of the message
    app.get("/admin/logs", get, async (request, reply) => {
      const q = typeof query(request).q === "string" ? (query(request).q as string) : "";
      const limit = parseLimit(query(request).limit, ACTIVITY_LIMITS.logs);
      const entries = await read.logs({ query: q === "" ? undefined : q, limit });
      return page(request, reply, "/admin/logs", (chrome) => logsPage(chrome, { q, limit, entries }));
    });

    // §5.12 todos
    app.get("/admin/todos", get, async (request, reply) => {
      const limit = parseLimit(query(request).limit, ACTIVITY_LIMITS.todos);
      const todos = await read.todos(limit);
      return page(request, reply, "/admin/todos", (chrome) => todosPage(chrome, { limit, todos }));
    });

    // §5.13 discussion board: top-level threads, then one thread with its replies
    app.get("/admin/board", get, async (request, reply) => {
      const limit = parseLimit(query(request).limit, ACTIVITY_LIMITS.board);
      const threads = await read.boardThreads(limit);
      return page(request, reply, "/admin/board", (chrome) => boardPage(chrome, { limit, threads }));
    });
    app.get("/admin/board/:id", get, async (request, reply) => {
      const { id } = request.params as { id: string };
      const thread = await read.boardThread(id);
      if (thread === undefined) return page(request, reply, "/admin/board", (chrome) => notFoundPage(chrome, "thread not found"), 404);
      return page(request, reply, "/admin/board", (chrome) => boardThreadPage(chrome, thread));
    });
  };
}
