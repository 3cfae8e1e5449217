// ABOUTME: POST /api/requests/{id}/cancel (http-api.md §8): cancels a request in flight by request id or by its
// ABOUTME: user message id; the request then ends through its own stream as §10.4 says.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ConversationService } from "../conversation/conversation-service.js";
import { sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { RawBody, readJsonObject, stringField, type JsonObject } from "./request-body.js";

export interface CancelRouteDeps {
  conversations: ConversationService;
}

/** The reason used when the body names none. */
export const DEFAULT_CANCEL_REASON = "user_requested";

/**
 * Registers `/api/requests/:id/cancel` (POST only; other methods 405). Must be registered inside the JWT scope.
 * Checks in order: 405, 400 `invalid JSON body` (the body is optional), 404 `request not found` (unknown or
 * finished). Success is 202 `{"request_id":"…","status":"canceling"}` with the resolved request id.
 */
export function cancelRoutes(deps: CancelRouteDeps) {
  return async function registerCancelRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/requests/:id/cancel", async (request, reply) => {
      if (request.method !== "POST") return sendMethodNotAllowed(reply);
      const body = readOptionalJsonObject(request);
      const reason = stringField(body, "reason");
      const { id } = request.params as { id: string };
      const { requestId } = deps.conversations.cancel(id, reason === "" ? DEFAULT_CANCEL_REASON : reason);
      return sendJson(reply, 202, { request_id: requestId, status: "canceling" });
    });
  };
}

/** An absent or empty body counts as `{}`; anything else is read as the one JSON object body. */
function readOptionalJsonObject(request: FastifyRequest): JsonObject {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (body instanceof RawBody && body.bytes !== undefined && body.bytes.length === 0) return {};
  return readJsonObject(request);
}
