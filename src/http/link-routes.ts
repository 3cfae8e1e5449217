// ABOUTME: The public device-link routes (http-api.md §9): request a code, poll its status. Errors are plain text
// ABOUTME: `<message>\n` like the reference; both routes are rate-limited per client address (429 JSON).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { LINK_TEXT, type LinkService, type LinkStatus } from "../auth/link-service.js";
import type { Lockout } from "../auth/lockout.js";
import { hasReason, isGatewayError } from "../lib/gateway-error.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import type { AddressRateLimiter } from "./address-rate-limiter.js";
import { HttpError } from "./http-errors.js";
import { sendError, sendJson, sendMethodNotAllowed, sendText } from "./http-reply.js";
import { checkHttpLockout } from "./jwt-http-authenticator.js";
import { readJsonObject, stringField } from "./request-body.js";

export interface LinkRouteDeps {
  links: Pick<LinkService, "request" | "status">;
  /** 60 requests a minute per client address, shared by both routes. */
  rateLimiter: AddressRateLimiter;
  /**
   * The brute-force lockout (auth on): a poll for an unknown code counts as a failed attempt against the client
   * address, and a locked address gets 429 on both routes. Omitted in no-auth mode, where no code can be approved.
   */
  lockout?: Pick<Lockout, "check" | "recordFailure" | "retryAfterSeconds"> | undefined;
  log?: Logger;
}

/** The rate limit answer (JSON, unlike the route's other errors). */
export const RATE_LIMITED_TEXT = "rate limit exceeded";
const INVALID_BODY_TEXT = "Invalid request body";

/** Sends a device-link error: `text/plain` with the message and one trailing newline. */
function sendLinkError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return sendText(reply, status, `${message}\n`);
}

/** The status and text of a link service failure; unknown failures get the route's own 500 text. */
function linkFailure(err: unknown, fallback: string): { status: number; message: string } {
  if (isGatewayError(err, "INVALID_ARGUMENT")) return { status: 400, message: err.message };
  if (isGatewayError(err, "NOT_FOUND")) return { status: 404, message: err.message };
  if (hasReason(err, "link_failed")) return { status: 500, message: err.message };
  return { status: 500, message: fallback };
}

function statusBody(result: LinkStatus): object {
  if (result.status === "approved" && result.token !== undefined && result.principalId !== undefined) {
    return { principal_id: result.principalId, status: "approved", token: result.token };
  }
  return { status: result.status };
}

/**
 * Registers `POST /api/link/request` and `GET /api/link/status/:code` (other methods 405). Public: register them
 * outside the JWT scope. Checks in order: 405, rate limit (429 `{"error":"rate limit exceeded"}`), lockout (429
 * `{"error":"too many failed authentication attempts"}` + `Retry-After`), then the route's own checks.
 */
export function linkRoutes(deps: LinkRouteDeps) {
  const log = deps.log ?? silentLogger;

  /** Rate limit, then lockout; returns the reply when the request was refused. */
  const guard = (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    if (!deps.rateLimiter.tryAcquire(request.ip)) return sendError(reply, 429, RATE_LIMITED_TEXT);
    if (deps.lockout !== undefined) checkHttpLockout(deps.lockout, request.ip);
    return undefined;
  };

  return async function registerLinkRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/link/request", async (request, reply) => {
      if (request.method !== "POST") return sendMethodNotAllowed(reply);
      const refused = guard(request, reply);
      if (refused) return refused;
      let fingerprint: string;
      let deviceName: string;
      try {
        const body = readJsonObject(request);
        fingerprint = stringField(body, "fingerprint");
        deviceName = stringField(body, "device_name");
      } catch (err) {
        if (err instanceof HttpError) throw err;
        return sendLinkError(reply, 400, INVALID_BODY_TEXT);
      }
      try {
        const created = await deps.links.request({ fingerprint, deviceName });
        return sendJson(reply, 200, { code: created.code, expires_at: created.expiresAt });
      } catch (err) {
        const { status, message } = linkFailure(err, LINK_TEXT.createFailed);
        return sendLinkError(reply, status, message);
      }
    });

    app.all("/api/link/status/:code", async (request, reply) => {
      if (request.method !== "GET") return sendMethodNotAllowed(reply);
      const refused = guard(request, reply);
      if (refused) return refused;
      const { code } = request.params as { code: string };
      try {
        return sendJson(reply, 200, statusBody(await deps.links.status(code)));
      } catch (err) {
        if (isGatewayError(err, "NOT_FOUND") && deps.lockout !== undefined) {
          deps.lockout.recordFailure(request.ip);
          log.debug("link status poll for an unknown code", { address: request.ip });
        }
        const { status, message } = linkFailure(err, LINK_TEXT.lookupFailed);
        return sendLinkError(reply, status, message);
      }
    });
  };
}
