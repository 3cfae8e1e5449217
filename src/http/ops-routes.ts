// ABOUTME: The HTTP side of operations (ops.md): the metrics scrape, rate-limit hooks, maintenance, budgets and the
// ABOUTME: guard dry run. Domain pieces come from src/ops; this file only maps them onto fastify routes and hooks.
import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply } from "fastify";
import { isLoopbackAddress } from "../auth/lockout.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { Budgets } from "../ops/budgets.js";
import type { CommandGuard } from "../ops/command-guard.js";
import type { GatewayMetrics } from "../ops/gateway-metrics.js";
import type { Maintenance, MaintenanceState } from "../ops/maintenance.js";
import type { RateLimits } from "../ops/rate-limits.js";
import { principalOf } from "./http-auth.js";

/** The admin gate of http-api.md §2 over the authenticated caller. */
const requireAdminRole = (request: Parameters<typeof principalOf>[0]) => requireAdmin(principalOf(request));
import { sendError, sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { readJsonObject } from "./request-body.js";
import { requireAdmin } from "../auth/roles.js";

/** What the HTTP edge needs of operations. */
export interface HttpOps {
  metrics: GatewayMetrics;
  metricsConfig: { readonly enabled: boolean; readonly path: string; readonly token: string };
  limits: RateLimits;
  maintenance: Maintenance;
  budgets: Budgets;
  guard: CommandGuard;
  /** `costs.currency`, shown beside every cost. */
  currency: string;
}

/** Paths counted by `http_per_address` (ops.md §2). */
function isAddressLimited(url: string): boolean {
  return url.startsWith("/api/") || url === "/mcp" || url.startsWith("/mcp/") || url.startsWith("/mcp?") || url.startsWith("/chat/") || url === "/ws" || url.startsWith("/ws?");
}

const constantTimeEquals = (a: string, b: string) => {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * Registers the metrics route on the root app (not under `/api`, so neither rate limited nor refused during
 * shutdown). A bearer `metrics.token` when set, else loopback clients only; a principal JWT is never accepted.
 */
export function metricsRoute(ops: HttpOps) {
  return async function registerMetricsRoute(app: FastifyInstance): Promise<void> {
    if (!ops.metricsConfig.enabled) return;
    app.route({
      method: ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
      url: ops.metricsConfig.path,
      handler: async (request, reply) => {
        if (request.method !== "GET" && request.method !== "HEAD") return sendMethodNotAllowed(reply);
        const token = ops.metricsConfig.token;
        if (token !== "") {
          const header = request.headers.authorization ?? "";
          if (!header.startsWith("Bearer ") || !constantTimeEquals(header.slice("Bearer ".length), token)) {
            return sendError(reply, 401, "invalid metrics token");
          }
        } else if (!isLoopbackAddress(request.ip)) {
          return sendError(reply, 403, "metrics are restricted to loopback; set metrics.token");
        }
        const text = await ops.metrics.scrape();
        return reply.code(200).header("content-type", ops.metrics.contentType).send(request.method === "HEAD" ? "" : text);
      },
    });
  };
}

/**
 * The root `onRequest` hook of `http_per_address`: counts `/api/*`, `/mcp*`, `/chat/*` and `/ws` by client address
 * before authentication. Requests the shutdown gate or a lockout will refuse pass through to those checks first.
 */
export function addAddressLimitHook(
  app: FastifyInstance,
  deps: { limits: RateLimits; isShuttingDown(): boolean; lockout?: { check(address: string): void } | undefined },
): void {
  app.addHook("onRequest", async (request, reply) => {
    const url = request.url;
    if (!isAddressLimited(url) || url.startsWith("/api/health/stream")) return undefined;
    if (deps.isShuttingDown()) return undefined;
    if (deps.lockout !== undefined && isLockedOut(deps.lockout, request.ip)) return undefined;
    const wait = deps.limits.take("http_address", request.ip);
    if (wait === 0) return undefined;
    return tooMany(reply, wait);
  });
}

function isLockedOut(lockout: { check(address: string): void }, address: string): boolean {
  try {
    lockout.check(address);
    return false;
  } catch (err) {
    if (err instanceof GatewayError && err.code === "RESOURCE_EXHAUSTED") return true;
    throw err;
  }
}

function tooMany(reply: FastifyReply, waitMs: number): FastifyReply {
  reply.header("retry-after", String(Math.max(1, Math.ceil(waitMs / 1000))));
  return sendError(reply, 429, "rate limit exceeded");
}

/** The JWT-scope hook of `http_per_principal`: every non-GET `/api/*` request, after authentication. */
export function addPrincipalLimitHook(scope: FastifyInstance, limits: RateLimits): void {
  scope.addHook("onRequest", async (request, reply) => {
    if (request.method === "GET" || request.method === "HEAD" || !request.url.startsWith("/api/")) return undefined;
    const principal = request.principal;
    if (principal === null) return undefined;
    const wait = limits.take("http_principal", principal.id);
    return wait === 0 ? undefined : tooMany(reply, wait);
  });
}

function maintenanceBody(state: MaintenanceState) {
  return { enabled: state.enabled, message: state.message, since: state.since };
}

/** `/api/admin/maintenance`, `/api/budgets` and `/api/guard/test` (JWT scope). */
export function opsApiRoutes(ops: HttpOps) {
  return async function registerOpsApiRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/admin/maintenance", async (request, reply) => {
      if (request.method === "GET") {
        principalOf(request);
        return sendJson(reply, 200, maintenanceBody(ops.maintenance.state()));
      }
      if (request.method !== "POST") return sendMethodNotAllowed(reply);
      const caller = requireAdminRole(request);
      const body = readJsonObject(request);
      if (body["enabled"] === undefined || body["enabled"] === null) throw new GatewayError("INVALID_ARGUMENT", "enabled is required");
      if (typeof body["enabled"] !== "boolean") throw new GatewayError("INVALID_ARGUMENT", "invalid JSON body");
      const message = body["message"];
      if (message !== undefined && message !== null && typeof message !== "string") {
        throw new GatewayError("INVALID_ARGUMENT", "invalid JSON body");
      }
      const state = await ops.maintenance.set({
        enabled: body["enabled"],
        message: typeof message === "string" ? message : undefined,
        actor: caller.id,
      });
      return sendJson(reply, 200, maintenanceBody(state));
    });

    app.all("/api/budgets", async (request, reply) => {
      if (request.method !== "GET") return sendMethodNotAllowed(reply);
      requireAdminRole(request);
      return sendJson(reply, 200, { budgets: ops.budgets.list() });
    });

    app.all("/api/guard/test", async (request, reply) => {
      if (request.method !== "POST") return sendMethodNotAllowed(reply);
      requireAdminRole(request);
      const input = readJsonObject(request);
      const tool = input["tool"];
      if (typeof tool !== "string" || tool === "") {
        if (tool !== undefined && tool !== null && typeof tool !== "string") throw new GatewayError("INVALID_ARGUMENT", "invalid JSON body");
        throw new GatewayError("INVALID_ARGUMENT", "tool is required");
      }
      const verdict = ops.guard.evaluateValue(tool, input["input"] === undefined ? {} : input["input"]);
      return sendJson(reply, 200, {
        action: verdict?.action ?? null,
        rule: verdict?.rule ?? null,
        message: verdict?.message ?? null,
      });
    });
  };
}
