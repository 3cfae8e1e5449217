// ABOUTME: `POST /api/admin/link/pair-token` (issue 14, docs/pairing.md): an admin mints a QR pairing token.
// ABOUTME: Behind the web admin's session + CSRF gate; 200 {url, qr, expires_at}, 409 text for an IP-literal host.
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import type { PairingService } from "../auth/pairing-service.js";
import { isGatewayError } from "../lib/gateway-error.js";

export const PAIR_TOKEN_PATH = "/api/admin/link/pair-token";

export interface PairTokenRouteDeps {
  pairing: Pick<PairingService, "mint">;
  /** The web admin's session + CSRF gate for XHR routes (401 JSON without a session, 403 on a CSRF mismatch). */
  gate: preHandlerAsyncHookHandler;
  /** The admin user the gate admitted. */
  adminOf(request: FastifyRequest): { id: string; username: string } | undefined;
}

function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header("content-type", "application/json").send(Buffer.from(`${JSON.stringify(body)}\n`, "utf8"));
}

/** Registers the mint route. The pairing service has logged any store failure it reports. */
export function pairTokenRoutes(deps: PairTokenRouteDeps) {
  return async function registerPairTokenRoutes(app: FastifyInstance): Promise<void> {
    app.post(PAIR_TOKEN_PATH, { preHandler: deps.gate }, async (request, reply) => {
      const admin = deps.adminOf(request);
      if (admin === undefined) return sendJson(reply, 401, { error: "not authenticated" });
      try {
        const minted = await deps.pairing.mint(admin);
        return sendJson(reply, 200, { url: minted.url, qr: minted.qr, expires_at: minted.expiresAt });
      } catch (err) {
        if (isGatewayError(err, "FAILED_PRECONDITION")) {
          return reply.code(409).header("content-type", "text/plain; charset=utf-8").send(err.message);
        }
        return sendJson(reply, 500, { error: "internal error" });
      }
    });
  };
}
