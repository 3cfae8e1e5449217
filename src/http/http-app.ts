// ABOUTME: Builds the fastify app of the HTTP API (never listening; the composition root listens): conventions,
// ABOUTME: error handler, shutdown gate, the one auth hook, and one plugin per resource.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { AgentManager } from "../agent/agent-manager.js";
import type { LinkService } from "../auth/link-service.js";
import type { Lockout } from "../auth/lockout.js";
import type { PairingService } from "../auth/pairing-service.js";
import type { ApprovalService } from "../conversation/approval-service.js";
import type { BindingService } from "../conversation/binding-service.js";
import type { ConversationService } from "../conversation/conversation-service.js";
import type { QuestionRouter } from "../conversation/question-router.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { mcpSessionTag } from "../lib/log-redaction.js";
import type { LedgerRepository } from "../store/ledger-repository.js";
import type { ThreadRepository } from "../store/thread-repository.js";
import type { UsageRepository } from "../store/usage-repository.js";
import { agentRoutes } from "./agent-routes.js";
import { approvalRoutes } from "./approval-routes.js";
import { bindingRoutes } from "./binding-routes.js";
import { cancelRoutes } from "./cancel-routes.js";
import { healthRoutes, healthStreamRoutes } from "./health-routes.js";
import type { AddressRateLimiter } from "./address-rate-limiter.js";
import { addAuthHook, decoratePrincipal, type HttpAuthenticator } from "./http-auth.js";
import { createErrorHandler } from "./http-errors.js";
import { CONTENT_SECURITY_POLICY, NOT_FOUND_TEXT, sendError, sendText } from "./http-reply.js";
import { createHistoryHandler } from "./history-routes.js";
import { linkRoutes } from "./link-routes.js";
import { addAddressLimitHook, addPrincipalLimitHook, metricsRoute, opsApiRoutes, type HttpOps } from "./ops-routes.js";
import { pairRoutes } from "./pair-routes.js";
import type { PrincipalStreams } from "./principal-streams.js";
import type { IdempotencyLookup } from "./idempotency.js";
import { registerRawBodyParser } from "./request-body.js";
import { questionRoutes } from "./question-routes.js";
import { createLeaderSendHandler, sendRoutes } from "./send-routes.js";
import type { BindingLookup } from "../conversation/send-target.js";
import type { SseRegistry } from "./sse-channel.js";
import { statsRoutes } from "./stats-routes.js";
import { threadRoutes } from "./thread-routes.js";

export interface HttpDeps {
  agents: AgentManager;
  conversations: ConversationService;
  ledger: LedgerRepository;
  usage: UsageRepository;
  /** Threads for `/api/threads/*`. */
  threads: ThreadRepository;
  /** `/api/bindings`: reads and audited changes. */
  bindingService: BindingService;
  /** Channel bindings for `/api/send` with frontend+channel_id (createBindingLookup over the bindings table). */
  bindings: BindingLookup;
  /**
   * Early idempotency lookup (the store's IdempotencyRepository) so duplicates and reused keys are answered before
   * target resolution, as the spec orders the checks; `ConversationService.send` still decides when it misses.
   */
  idempotency: IdempotencyLookup;
  /** Tool approvals: `/api/tools/approve` and `/api/tools/pending`. */
  approvals: Pick<ApprovalService, "answer" | "listPending">;
  /**
   * The `ask_user` question router: `/api/questions/answer` and `/api/questions/pending`, and every send stream is
   * a recipient of its agent's questions (SSE `user_question`) while its request is in flight.
   */
  questions: Pick<QuestionRouter, "answer" | "listPending" | "addRecipient">;
  /** Device linking: the public `/api/link/request` and `/api/link/status/{code}`. */
  links: Pick<LinkService, "request" | "status">;
  /** The per-address limit of the link routes (60 requests a minute in the gateway). */
  linkRateLimiter: AddressRateLimiter;
  /**
   * The brute-force lockout the link routes report unknown-code polls to; undefined with auth off. The JWT routes
   * use the one inside `auth`.
   */
  lockout: Pick<Lockout, "check" | "recordFailure" | "retryAfterSeconds"> | undefined;
  /** QR pairing: the public `POST /api/link/pair` (docs/pairing.md). */
  pairing: Pick<PairingService, "enroll">;
  /** Send streams by caller principal; the wiring calls `closePrincipal` when a principal is revoked or deleted. */
  principalStreams: PrincipalStreams;
  /** The registry of open SSE streams (ended with a final frame on close). */
  sseRegistry: SseRegistry;
  log: Logger;
  clock: Clock;
  /** Fresh ids (leader thread external ids). */
  ids: IdSource;
  limits: { maxBodyBytes: number; sseHeartbeatIntervalMs: number; sseWriteStallTimeoutMs: number };
  auth: HttpAuthenticator;
  lifecycle: { isShuttingDown(): boolean };
  /** Take the client address from X-Forwarded-For (`server.trust_proxy`); the auth hook sees it as `ip`. */
  trustProxy: boolean;
  /**
   * Operations (ops.md): the metrics route, `http_per_address` and `http_per_principal`, maintenance and budget
   * checks of the send routes, `/api/admin/maintenance`, `/api/budgets`, `/api/guard/test`.
   */
  ops: HttpOps;
}

/**
 * Builds the HTTP API app without listening. Public routes: `/health`, `/health/ready`, `/api/health/stream`,
 * `/api/link/request`, `/api/link/status/{code}`, `/api/link/pair`. JWT routes (behind `deps.auth`): `/api/agents`,
 * `/api/agents/{id}/history`, `/api/agents/{id}/send`, `/api/send`, `/api/stats/usage`,
 * `/api/requests/{id}/cancel`, `/api/threads/{id}/messages|usage`, `/api/bindings`, `/api/tools/approve|pending`,
 * `/api/questions/answer|pending`. On close, every open SSE stream gets its final frame and ends.
 */
export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    exposeHeadRoutes: false,
    return503OnClosing: false,
    trustProxy: deps.trustProxy,
    bodyLimit: deps.limits.maxBodyBytes,
    // fastify rejects a path parameter over 100 characters before any hook runs; ids of any length must reach
    // the auth hook and the route (`request not found`, `Code not found`) instead. Set under routerOptions: the
    // top-level option is deprecated (FSTDEP022) and printed a warning on every start.
    routerOptions: { maxParamLength: 8192 },
    // ops.md §6: the client's X-Request-Id when well formed, else a fresh UUIDv4; echoed and logged as `http_id`.
    requestIdHeader: false,
    genReqId: requestIdOf,
    // A request that does not parse as HTTP still gets our error shape and the CSP header.
    clientErrorHandler: (_error, socket) => {
      if (!socket.writable) return;
      const body = '{"error":"bad request"}\n';
      socket.end(
        "HTTP/1.1 400 Bad Request\r\n" +
          "Connection: close\r\n" +
          "Content-Type: application/json\r\n" +
          `Content-Security-Policy: ${CONTENT_SECURITY_POLICY}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
          body,
      );
    },
    frameworkErrors: (_error, _request, reply) => {
      reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
      sendError(reply, 400, "invalid path");
    },
  });
  const registry = deps.sseRegistry;
  const ids = deps.ids;

  decoratePrincipal(app);
  registerRawBodyParser(app, deps.limits.maxBodyBytes);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
    reply.header("x-request-id", request.id);
    logAccess(deps.log, request, reply);
  });
  addAddressLimitHook(app, { limits: deps.ops.limits, isShuttingDown: () => deps.lifecycle.isShuttingDown(), lockout: deps.lockout });
  app.setErrorHandler(createErrorHandler(deps.log));
  app.setNotFoundHandler(async (_request, reply) => sendText(reply, 404, NOT_FOUND_TEXT));
  app.addHook("preClose", async () => {
    await registry.shutdownAll();
  });

  const sendDeps = {
    agents: deps.agents,
    conversations: deps.conversations,
    clock: deps.clock,
    ids,
    log: deps.log,
    limits: deps.limits,
    registry,
    bindings: deps.bindings,
    idempotency: deps.idempotency,
    questions: deps.questions,
    principalStreams: deps.principalStreams,
    ops: deps.ops,
  };

  void app.register(async (routes) => {
    routes.addHook("onRequest", ignoreContentType);
    await routes.register(metricsRoute(deps.ops));
    await routes.register(healthRoutes({ ...deps, maintenance: deps.ops.maintenance }));
    await routes.register(async (api) => {
      api.addHook("onRequest", async (_request, reply) => {
        if (deps.lifecycle.isShuttingDown()) return sendError(reply, 503, "gateway shutting down");
        return undefined;
      });
      await api.register(healthStreamRoutes({ limits: deps.limits, registry }));
      await api.register(linkRoutes({ links: deps.links, rateLimiter: deps.linkRateLimiter, lockout: deps.lockout, log: deps.log }));
      await api.register(pairRoutes({ pairing: deps.pairing }));
      await api.register(async (jwt) => {
        addAuthHook(jwt, deps.auth);
        addPrincipalLimitHook(jwt, deps.ops.limits);
        await jwt.register(
          agentRoutes({
            agents: deps.agents,
            history: createHistoryHandler(deps),
            send: createLeaderSendHandler(sendDeps),
          }),
        );
        await jwt.register(sendRoutes(sendDeps));
        await jwt.register(statsRoutes({ usage: deps.usage, currency: deps.ops.currency }));
        await jwt.register(opsApiRoutes(deps.ops));
        await jwt.register(cancelRoutes({ conversations: deps.conversations }));
        await jwt.register(threadRoutes({ threads: deps.threads, ledger: deps.ledger, usage: deps.usage, currency: deps.ops.currency }));
        await jwt.register(bindingRoutes({ agents: deps.agents, bindings: deps.bindingService }));
        await jwt.register(approvalRoutes({ approvals: deps.approvals }));
        await jwt.register(questionRoutes({ questions: deps.questions }));
      });
    });
  });
  return app;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the client's `X-Request-Id` when it matches ops.md §6's pattern, else a fresh UUIDv4. */
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One access line per request at info once its response is over (streams included: SSE replies are hijacked, so
 * the raw response's `close` is the one signal every request gives). Never bodies, never the raw URL's secrets.
 */
function logAccess(log: Logger, request: FastifyRequest, reply: FastifyReply): void {
  const started = performance.now();
  reply.raw.once("close", () => {
    const principal = request.principal;
    log.info("http request", {
      http_id: request.id,
      method: request.method,
      route: request.routeOptions.url ?? "",
      // The logger's URL sanitizer removes capability parts (/mcp/<token>, ?token=, /invite/<token>, link codes).
      url: request.url,
      status: reply.raw.statusCode,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      ...(principal === null || principal === undefined ? {} : { principal_id: principal.id }),
      ...mcpSessionAttr(request, reply),
    });
  });
}

/** `mcp_session` for an MCP request: its session id, or the one an initialize answer minted, hashed (ops.md §6). */
function mcpSessionAttr(request: FastifyRequest, reply: FastifyReply): { mcp_session?: string } {
  const given = request.headers["mcp-session-id"];
  const minted = reply.raw.getHeader("mcp-session-id");
  const id = typeof given === "string" && given !== "" ? given : typeof minted === "string" ? minted : "";
  return id === "" ? {} : { mcp_session: mcpSessionTag(id) };
}

/**
 * Bodies are JSON whatever the Content-Type (http-api.md §1). Dropping the header before parsing sends every body
 * to the catch-all reader, even with a malformed type that fastify would otherwise answer 415.
 */
async function ignoreContentType(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  delete request.headers["content-type"];
}
