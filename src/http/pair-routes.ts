// ABOUTME: `POST /api/link/pair` (issue 14, docs/pairing.md): the unauthenticated QR pairing enrollment.
// ABOUTME: Every rejection is 401 `{"error":"<reason>"}`; a store failure is 500 `{"error":"internal error"}`.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { PAIR_TEXT, type PairEnrollRequest, type PairingService } from "../auth/pairing-service.js";
import { isGatewayError } from "../lib/gateway-error.js";
import { sendError, sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { readJsonObject, stringField } from "./request-body.js";

export interface PairRouteDeps {
  pairing: Pick<PairingService, "enroll">;
}

/**
 * The enrollment body, or undefined when it does not parse as `{token, fingerprint, device_name}` with string
 * (or absent) fields: too large, not JSON, not an object, or a field of another type.
 */
function readPairRequest(request: FastifyRequest): PairEnrollRequest | undefined {
  try {
    const body = readJsonObject(request);
    return {
      token: stringField(body, "token"),
      fingerprint: stringField(body, "fingerprint"),
      deviceName: stringField(body, "device_name"),
    };
  } catch {
    // Any body the reader refuses is the contract's one `invalid request: body`, 413 included.
    return undefined;
  }
}

/** Registers `POST /api/link/pair` (other methods 405). Public: register it outside the JWT scope. */
export function pairRoutes(deps: PairRouteDeps) {
  return async function registerPairRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/link/pair", async (request, reply) => {
      if (request.method !== "POST") return sendMethodNotAllowed(reply);
      try {
        const { principalId } = await deps.pairing.enroll(request.ip, readPairRequest(request));
        return sendJson(reply, 200, { principal_id: principalId });
      } catch (err) {
        if (isGatewayError(err, "UNAUTHENTICATED")) return sendError(reply, 401, err.message);
        // The service logged the cause; anything else is redacted to the contract's text.
        return sendError(reply, 500, PAIR_TEXT.internal);
      }
    });
  };
}
