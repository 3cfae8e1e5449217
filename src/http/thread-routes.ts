// ABOUTME: GET /api/threads (the caller's threads, newest first, paged) and GET /api/threads/{id}/messages|usage
// ABOUTME: (http-api.md §7) behind the `/api/threads/` suffix dispatch: a thread's newest messages and usage rows.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatewayError } from "../lib/gateway-error.js";
import { isUuid } from "../lib/ids.js";
import type { LedgerRepository } from "../store/ledger-repository.js";
import type { Thread, ThreadListPosition, ThreadRepository } from "../store/thread-repository.js";
import type { MessageUsage, UsageRepository } from "../store/usage-repository.js";
import { parseLimit } from "./history-routes.js";
import { principalOf } from "./http-auth.js";
import { sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { idBeforeSuffix, isValidIdSegment, queryParam, wildcardParam } from "./route-input.js";
import { toThreadMessage } from "./thread-messages.js";

export interface ThreadRouteDeps {
  threads: ThreadRepository;
  ledger: LedgerRepository;
  usage: UsageRepository;
  /** `costs.currency` for the cost fields of ops.md §4.3. */
  currency?: string | undefined;
}

/**
 * Registers `/api/threads/*`. A path ending in `/messages` or `/usage` goes to that route; anything else is 404
 * `unknown endpoint`. The dispatch runs after auth (register inside the JWT scope) and before the method check.
 */
export function threadRoutes(deps: ThreadRouteDeps) {
  return async function registerThreadRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/threads", async (request, reply) => listThreads(deps, request, reply));
    app.all("/api/threads/*", async (request, reply) => {
      const rest = wildcardParam(request);
      const messagesOf = idBeforeSuffix(rest, "messages");
      if (messagesOf !== undefined) return threadMessages(deps, request, reply, messagesOf);
      const usageOf = idBeforeSuffix(rest, "usage");
      if (usageOf !== undefined) return threadUsage(deps, request, reply, usageOf);
      throw new GatewayError("NOT_FOUND", "unknown endpoint");
    });
  };
}

/** `last_message` carries at most this many characters of the newest message (then `…`). */
export const LAST_MESSAGE_CHARS = 1_000;

/** The opaque cursor of GET /api/threads: base64url of `[updated_at, id]` of the last thread returned. */
export function encodeThreadCursor(position: ThreadListPosition): string {
  return Buffer.from(JSON.stringify([position.updatedAt, position.id]), "utf8").toString("base64url");
}

/** Decodes a thread cursor; undefined for anything encodeThreadCursor did not produce. */
export function decodeThreadCursor(text: string): ThreadListPosition | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string") return undefined;
    const position = { updatedAt: value[0], id: value[1] };
    return encodeThreadCursor(position) === text ? position : undefined;
  } catch {
    return undefined;
  }
}

/**
 * GET /api/threads?agent_id=&limit=&cursor= (issue 15, documented in docs/threads-api.md): threads newest
 * `updated_at` first. Admins and owners (and the anonymous admin of no-auth mode) see every thread; other
 * principals see the threads they took part in. Checks in order: 405, `limit must be a positive integer`,
 * `invalid cursor`.
 */
async function listThreads(deps: ThreadRouteDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (request.method !== "GET") return sendMethodNotAllowed(reply);
  const limit = parseLimit(queryParam(request, "limit"));
  const cursorText = queryParam(request, "cursor");
  let after: ThreadListPosition | undefined;
  if (cursorText !== undefined && cursorText !== "") {
    after = decodeThreadCursor(cursorText);
    if (after === undefined) throw new GatewayError("INVALID_ARGUMENT", "invalid cursor");
  }
  const principal = principalOf(request);
  const seesAll = principal.roles.includes("admin") || principal.roles.includes("owner");
  const agentId = queryParam(request, "agent_id");
  const rows = await deps.threads.list({
    agentId: agentId === undefined || agentId === "" ? undefined : agentId,
    participantId: seesAll ? undefined : principal.id,
    after,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  const last = page.at(-1);
  return sendJson(reply, 200, {
    threads: page.map((t) => ({
      thread_id: t.id,
      agent_id: t.agentId,
      created_at: t.createdAt,
      updated_at: t.updatedAt,
      ...(t.lastMessage === undefined
        ? {}
        : { last_message: t.lastMessage.length > LAST_MESSAGE_CHARS ? `${t.lastMessage.slice(0, LAST_MESSAGE_CHARS)}…` : t.lastMessage }),
    })),
    has_more: hasMore,
    ...(hasMore && last !== undefined ? { next_cursor: encodeThreadCursor({ updatedAt: last.updatedAt, id: last.id }) } : {}),
  });
}

/** Throws INVALID_ARGUMENT `invalid path` (empty, `/` or `..`), then `invalid thread_id format` (not a UUID). */
function checkThreadId(threadId: string): void {
  if (!isValidIdSegment(threadId)) throw new GatewayError("INVALID_ARGUMENT", "invalid path");
  if (!isUuid(threadId)) throw new GatewayError("INVALID_ARGUMENT", "invalid thread_id format");
}

/** The thread; throws NOT_FOUND `thread not found`. */
async function findThread(deps: ThreadRouteDeps, threadId: string): Promise<Thread> {
  const thread = await deps.threads.findById(threadId);
  if (thread === undefined) throw new GatewayError("NOT_FOUND", "thread not found");
  return thread;
}

/**
 * `{thread_id, messages}`: the newest `limit` (default 50, at most 500) events, in chronological order.
 * Checks in order: 405, `invalid path`, `invalid thread_id format`, `limit must be a positive integer`, 404.
 */
async function threadMessages(
  deps: ThreadRouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  threadId: string,
): Promise<FastifyReply> {
  if (request.method !== "GET") return sendMethodNotAllowed(reply);
  checkThreadId(threadId);
  const limit = parseLimit(queryParam(request, "limit"));
  const thread = await findThread(deps, threadId);
  const events = await deps.ledger.newestInThread(thread.id, limit);
  return sendJson(reply, 200, { thread_id: thread.id, messages: events.map((event) => toThreadMessage(event, thread.id)) });
}

/**
 * `{thread_id, usage}`: the thread's usage rows, oldest first; `message_id` omitted while unlinked. Checks as for
 * messages, without the limit.
 */
async function threadUsage(
  deps: ThreadRouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  threadId: string,
): Promise<FastifyReply> {
  if (request.method !== "GET") return sendMethodNotAllowed(reply);
  checkThreadId(threadId);
  const thread = await findThread(deps, threadId);
  const rows = await deps.usage.listByThread(thread.id);
  const costMicros = rows.reduce((sum, row) => sum + (row.costMicros ?? 0), 0);
  const unpriced = new Set(rows.filter((row) => row.costMicros === null).map((row) => row.requestId)).size;
  return sendJson(reply, 200, {
    thread_id: thread.id,
    usage: rows.map(usageEntry),
    cost: costMicros / 1_000_000,
    currency: deps.currency ?? "USD",
    unpriced_requests: unpriced,
  });
}

function usageEntry(row: MessageUsage): Record<string, unknown> {
  return {
    id: row.id,
    ...(row.messageId === null ? {} : { message_id: row.messageId }),
    request_id: row.requestId,
    agent_id: row.agentId,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cache_read_tokens: row.cacheReadTokens,
    cache_write_tokens: row.cacheWriteTokens,
    thinking_tokens: row.thinkingTokens,
    created_at: row.createdAt,
  };
}
