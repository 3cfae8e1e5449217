// ABOUTME: `POST /api/admin/link/pair-token` (issue 14, docs/pairing.md): an admin mints a QR pairing token.
// ABOUTME: Session + CSRF like every S+C route; 200 {url, qr, expires_at}, 409 text when the host is an IP literal.
import type { FastifyInstance } from "fastify";
import type { PairingService } from "../auth/pairing-service.js";
import { isGatewayError } from "../lib/gateway-error.js";
import type { AdminGuard } from "./admin-guard.js";
import { sendJson, sendJsonError, sendText } from "./web-reply.js";

export const PAIR_TOKEN_PATH = "/api/admin/link/pair-token";

export interface PairTokenRouteDeps {
  pairing: Pick<PairingService, "mint">;
  guard: AdminGuard;
}

/**
 * Registers the mint route. Without a session: 401 `{"error":"not authenticated"}`; CSRF mismatch: 403
 * `Invalid request`; store failure: 500 `{"error":"internal error"}` (the pairing service logged the cause).
 */
export function pairTokenRoutes(deps: PairTokenRouteDeps) {
  return async function registerPairTokenRoutes(app: FastifyInstance): Promise<void> {
    app.post(PAIR_TOKEN_PATH, { preHandler: deps.guard.sessionAndCsrf("xhr") }, async (request, reply) => {
      const session = request.adminSession;
      if (session === null) return sendJsonError(reply, 401, "not authenticated");
      try {
        const minted = await deps.pairing.mint({ id: session.userId, username: session.user.username });
        return sendJson(reply, 200, { url: minted.url, qr: minted.qr, expires_at: minted.expiresAt });
      } catch (err) {
        if (isGatewayError(err, "FAILED_PRECONDITION")) return sendText(reply, 409, err.message);
        return sendJsonError(reply, 500, "internal error");
      }
    });
  };
}
