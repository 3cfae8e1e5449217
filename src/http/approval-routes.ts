// ABOUTME: Tool approvals over HTTP (http-api.md §8): POST /api/tools/approve answers the oldest pending approval,
// ABOUTME: GET /api/tools/pending lists what is waiting. The approval service owns the checks, audit and the write.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApprovalService } from "../conversation/approval-service.js";
import { GatewayError } from "../lib/gateway-error.js";
import { principalOf } from "./http-auth.js";
import { sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { readJsonObject, stringField, type JsonObject } from "./request-body.js";
import { queryParam } from "./route-input.js";
import { pendingApprovalJson } from "../conversation/pending-json.js";

export interface ApprovalRouteDeps {
  approvals: Pick<ApprovalService, "answer" | "listPending">;
}

/**
 * Registers `/api/tools/approve` (POST) and `/api/tools/pending` (GET); other methods get 405. Must be registered
 * inside the JWT scope. Approve checks, in order: 400 `invalid JSON body`, `agent_id is required`, `tool_id is
 * required`; 404 `agent not found`; 404 `tool approval not found`; 409 `tool approval already resolved`; 500
 * `failed to send approval`. Success is 200 `{"approved":<bool>,"success":true}`, audited `approve_tool`.
 */
export function approvalRoutes(deps: ApprovalRouteDeps) {
  return async function registerApprovalRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/tools/approve", async (request, reply) => {
      if (request.method !== "POST") return sendMethodNotAllowed(reply);
      return approveTool(deps, request, reply);
    });
    app.all("/api/tools/pending", async (request, reply) => {
      if (request.method !== "GET") return sendMethodNotAllowed(reply);
      const approvals = await deps.approvals.listPending(queryParam(request, "agent_id"));
      return sendJson(reply, 200, { approvals: approvals.map(pendingApprovalJson) });
    });
  };
}

async function approveTool(deps: ApprovalRouteDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body = readJsonObject(request);
  const agentId = stringField(body, "agent_id");
  const toolId = stringField(body, "tool_id");
  const approved = booleanField(body, "approved");
  const approveAll = booleanField(body, "approve_all");
  if (agentId === "") throw new GatewayError("INVALID_ARGUMENT", "agent_id is required");
  if (toolId === "") throw new GatewayError("INVALID_ARGUMENT", "tool_id is required");
  const principal = principalOf(request);
  await deps.approvals.answer({ agentId, toolId, approved, approveAll, actor: principal.id });
  return sendJson(reply, 200, { approved, success: true });
}

/**
 * A known boolean field: false when absent or JSON null. Throws GatewayError INVALID_ARGUMENT `invalid JSON body`
 * when the field holds another JSON type.
 */
function booleanField(body: JsonObject, name: string): boolean {
  const value = body[name];
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw new GatewayError("INVALID_ARGUMENT", "invalid JSON body");
  return value;
}
