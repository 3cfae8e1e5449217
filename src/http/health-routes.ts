// ABOUTME: Health endpoints (http-api.md §4): /health, /health/ready and the /api/health/stream SSE keepalive.
// ABOUTME: Public routes: no auth; /health answers even during shutdown, readiness reports it.
import type { FastifyInstance } from "fastify";
import type { AgentManager } from "../agent/agent-manager.js";
import { pendingHeaders, sendMethodNotAllowed, sendText } from "./http-reply.js";
import { SseChannel, type SseRegistry } from "./sse-channel.js";

export interface HealthRouteDeps {
  agents: Pick<AgentManager, "connectedCount">;
  lifecycle: { isShuttingDown(): boolean };
  /** While maintenance is on, readiness answers 503 `maintenance` (ops.md §5; `shutting down` wins). */
  maintenance?: { readonly isOn: boolean } | undefined;
}

/** Registers `/health` and `/health/ready` for every method. */
export function healthRoutes(deps: HealthRouteDeps) {
  return async function registerHealthRoutes(app: FastifyInstance): Promise<void> {
    app.all("/health", async (_request, reply) => sendText(reply, 200, "OK"));

    app.all("/health/ready", async (_request, reply) => {
      if (deps.lifecycle.isShuttingDown()) return sendText(reply, 503, "shutting down");
      if (deps.maintenance?.isOn === true) return sendText(reply, 503, "maintenance");
      const n = deps.agents.connectedCount;
      return n === 0 ? sendText(reply, 503, "no agents connected") : sendText(reply, 200, `ready (${n} agents)`);
    });
  };
}

export interface HealthStreamDeps {
  limits: { sseHeartbeatIntervalMs: number; sseWriteStallTimeoutMs: number };
  registry: SseRegistry;
}

/**
 * Registers `GET /api/health/stream`: SSE headers, `data: ok\n\n` at once, then heartbeat comments until the client
 * goes away (or the app closes). Carries no events and never ends on its own.
 */
export function healthStreamRoutes(deps: HealthStreamDeps) {
  return async function registerHealthStream(app: FastifyInstance): Promise<void> {
    app.all("/api/health/stream", async (request, reply) => {
      if (request.method !== "GET") return sendMethodNotAllowed(reply);
      reply.hijack();
      const channel = new SseChannel({
        response: reply.raw,
        headers: pendingHeaders(reply),
        heartbeatIntervalMs: deps.limits.sseHeartbeatIntervalMs,
        writeStallTimeoutMs: deps.limits.sseWriteStallTimeoutMs,
        registry: deps.registry,
      });
      channel.open("data: ok\n\n");
      return reply;
    });
  };
}
