// ABOUTME: GET /api/agents/{id}/history (http-api.md §5): the conversation ledger of one agent_id, oldest first,
// ABOUTME: paged by opaque cursor, with the agent's usage totals. Reached through the `/api/agents/` dispatch.
import type { FastifyReply, FastifyRequest } from "fastify";
import { GatewayError } from "../lib/gateway-error.js";
import { decodeCursor, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from "../store/cursor.js";
import type { LedgerEvent, LedgerRepository } from "../store/ledger-repository.js";
import type { UsageRepository, UsageStats } from "../store/usage-repository.js";
import { sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { isValidIdSegment, queryParam } from "./route-input.js";

export interface HistoryRouteDeps {
  ledger: LedgerRepository;
  usage: UsageRepository;
}

/**
 * The history handler for the raw `{id}` segment. Checks in order: 405 for non-GET, 400 `invalid path or
 * agent_id`, 400 `limit must be a positive integer`, 400 `invalid cursor`. Unknown ids answer 200 with no events.
 */
export function createHistoryHandler(deps: HistoryRouteDeps) {
  return async function history(request: FastifyRequest, reply: FastifyReply, agentId: string): Promise<FastifyReply> {
    if (request.method !== "GET") return sendMethodNotAllowed(reply);
    if (!isValidIdSegment(agentId)) throw new GatewayError("INVALID_ARGUMENT", "invalid path or agent_id");
    const limit = parseLimit(queryParam(request, "limit"));
    const cursorText = queryParam(request, "cursor");
    const afterSeq = cursorText === undefined ? undefined : decodeCursor(cursorText);
    if (cursorText !== undefined && afterSeq === undefined) throw new GatewayError("INVALID_ARGUMENT", "invalid cursor");
    const page = await deps.ledger.listConversation({ conversationKey: agentId, afterSeq, limit });
    const usage = await deps.usage.stats({ agentId });
    return sendJson(reply, 200, {
      agent_id: agentId,
      events: page.events.map(historyEvent),
      count: page.events.length,
      has_more: page.hasMore,
      ...(page.hasMore && page.nextCursor !== undefined ? { next_cursor: page.nextCursor } : {}),
      usage: usageTotals(usage),
    });
  };
}

/**
 * The page size: 50 when absent, at most 500. Throws GatewayError INVALID_ARGUMENT `limit must be a positive
 * integer` for anything that is not a decimal integer >= 1 (an optional sign is accepted, as Go's Atoi does).
 */
export function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PAGE_LIMIT;
  const value = /^[+-]?[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new GatewayError("INVALID_ARGUMENT", "limit must be a positive integer");
  }
  return Math.min(value, MAX_PAGE_LIMIT);
}

function historyEvent(event: LedgerEvent): Record<string, unknown> {
  return {
    id: event.eventId,
    direction: event.direction,
    author: event.author,
    type: event.type,
    timestamp: event.timestamp,
    ...(event.threadId === null ? {} : { thread_id: event.threadId }),
    ...(event.text === null ? {} : { text: event.text }),
  };
}

/** The usage object of history and `/api/stats/usage`, keys in the spec's order. */
export function usageTotals(stats: UsageStats): Record<string, number> {
  return {
    total_input: stats.totalInput,
    total_output: stats.totalOutput,
    total_cache_read: stats.totalCacheRead,
    total_cache_write: stats.totalCacheWrite,
    total_thinking: stats.totalThinking,
    total_tokens: stats.totalTokens,
    request_count: stats.requestCount,
  };
}
