// ABOUTME: GET /api/threads/{id}/messages and GET /api/threads/{id}/usage (http-api.md §7) behind the
// ABOUTME: `/api/threads/` suffix dispatch: the newest messages of a thread, and its usage rows oldest first.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatewayError } from "../lib/gateway-error.js";
import { isUuid } from "../lib/ids.js";
import type { LedgerRepository } from "../store/ledger-repository.js";
import type { Thread, ThreadRepository } from "../store/thread-repository.js";
import type { MessageUsage, UsageRepository } from "../store/usage-repository.js";
import { parseLimit } from "./history-routes.js";
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
