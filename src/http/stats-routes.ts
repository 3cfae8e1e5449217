// ABOUTME: GET /api/stats/usage (http-api.md §7): token totals filtered by agent, thread and a time window.
// ABOUTME: `since` is inclusive and `until` exclusive; both accept any RFC 3339 value and compare in UTC.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatewayError } from "../lib/gateway-error.js";
import { parseRfc3339 } from "../lib/rfc3339.js";
import type { UsageFilter, UsageRepository } from "../store/usage-repository.js";
import { usageTotals } from "./history-routes.js";
import { sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { queryParam } from "./route-input.js";

export interface StatsRouteDeps {
  usage: UsageRepository;
  /** `costs.currency`; the cost fields of ops.md §4.3 follow the token totals. */
  currency?: string | undefined;
}

/** Registers `/api/stats/usage` (GET only; other methods 405). Must be registered inside the JWT scope. */
export function statsRoutes(deps: StatsRouteDeps) {
  return async function registerStatsRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/stats/usage", async (request, reply) => {
      if (request.method !== "GET") return sendMethodNotAllowed(reply);
      const stats = await deps.usage.stats(usageFilterOf(request));
      return sendJson(reply, 200, { ...usageTotals(stats), ...costFields(stats, deps.currency ?? "USD") });
    });
  };
}

/** `cost`, `currency`, `unpriced_requests` (ops.md §4.3), after the existing keys. */
export function costFields(stats: { costMicros: number; unpricedRequests: number }, currency: string) {
  return { cost: stats.costMicros / 1_000_000, currency, unpriced_requests: stats.unpricedRequests };
}

/**
 * The stats filter of the query (`agent_id`, `thread_id`, `since`, `until`; empty values are absent). Throws
 * GatewayError INVALID_ARGUMENT `invalid 'since' format (use RFC3339)`, then the same for `until`.
 */
export function usageFilterOf(request: FastifyRequest): UsageFilter {
  const since = timeParam(request, "since");
  const until = timeParam(request, "until");
  const agentId = queryParam(request, "agent_id");
  const threadId = queryParam(request, "thread_id");
  return {
    ...(agentId === undefined ? {} : { agentId }),
    ...(threadId === undefined ? {} : { threadId }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
}

/**
 * The bound as a stored-form timestamp. Sub-millisecond digits round up for both bounds: for the inclusive `since`
 * no earlier instant may match, and for the exclusive `until` every earlier millisecond must still match.
 */
function timeParam(request: FastifyRequest, name: "since" | "until"): string | undefined {
  const text = queryParam(request, name);
  if (text === undefined) return undefined;
  const value = parseRfc3339(text, "up");
  if (value === undefined) throw new GatewayError("INVALID_ARGUMENT", `invalid '${name}' format (use RFC3339)`);
  return value;
}
