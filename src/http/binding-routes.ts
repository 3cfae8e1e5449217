// ABOUTME: `/api/bindings` (http-api.md §6): list or read one binding, bind a channel to a connected agent instance
// ABOUTME: and unbind (admin/owner), each change through the shared BindingService.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AgentInfo } from "../agent/agent-connection.js";
import type { AgentManager } from "../agent/agent-manager.js";
import { requireAdmin } from "../auth/roles.js";
import { findBoundAgent } from "../conversation/binding-lookup.js";
import type { BindingService } from "../conversation/binding-service.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { HttpPrincipal } from "./http-auth.js";
import { sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { readJsonObject, stringField } from "./request-body.js";
import { queryParam } from "./route-input.js";

export interface BindingRouteDeps {
  agents: Pick<AgentManager, "list">;
  /** Reads and changes; each change runs in one transaction with its audit rows. */
  bindings: Pick<BindingService, "list" | "findByChannel" | "bindInstance" | "deleteByChannel">;
}

/**
 * The admin gate of http-api.md §2 (auth/roles.ts): returns the caller. Throws GatewayError UNAUTHENTICATED `not
 * authenticated` without an auth context, PERMISSION_DENIED `admin role required` otherwise.
 */
function adminCaller(request: FastifyRequest): HttpPrincipal {
  const principal = request.principal;
  if (principal === null) throw new GatewayError("UNAUTHENTICATED", "not authenticated", { reason: "credential_missing" });
  return requireAdmin(principal);
}

/**
 * Registers `/api/bindings` (GET, POST, DELETE; any other method 405). Must be registered inside the JWT scope.
 * POST and DELETE pass the admin gate before their own checks.
 */
export function bindingRoutes(deps: BindingRouteDeps) {
  return async function registerBindingRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/bindings", async (request, reply) => {
      switch (request.method) {
        case "GET":
          return getBindings(deps, request, reply);
        case "POST":
          return createBinding(deps, request, reply, adminCaller(request));
        case "DELETE":
          return deleteBinding(deps, request, reply, adminCaller(request));
        default:
          return sendMethodNotAllowed(reply);
      }
    });
  };
}

/** GET: the single form with both `frontend` and `channel_id`, else the list, newest first. */
async function getBindings(deps: BindingRouteDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const frontend = queryParam(request, "frontend");
  const channelId = queryParam(request, "channel_id");
  const connected = deps.agents.list();
  if (frontend !== undefined && channelId !== undefined) {
    const binding = await deps.bindings.findByChannel(frontend, channelId);
    if (binding === undefined) throw new GatewayError("NOT_FOUND", "no binding for this channel");
    const agent = findBoundAgent(connected, binding);
    return sendJson(reply, 200, {
      binding_id: binding.id,
      agent_name: agent?.name ?? "",
      working_dir: binding.workingDir,
      online: agent !== undefined,
    });
  }
  const all = await deps.bindings.list();
  return sendJson(reply, 200, {
    bindings: all.map((binding) => {
      const agent = findBoundAgent(connected, binding);
      return {
        frontend: binding.frontend,
        channel_id: binding.channelId,
        agent_id: binding.agentId,
        ...(agent === undefined ? {} : { agent_name: agent.name }),
        agent_online: agent !== undefined,
        working_dir: binding.workingDir,
        created_at: binding.createdAt,
      };
    }),
  });
}

/**
 * POST: binds `(frontend, channel_id)` to the connection with `instance_id` (BindingService.bindInstance): 200 when
 * the binding already points there (nothing written), else 201; a lost race on the unique key is 409.
 */
async function createBinding(
  deps: BindingRouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  caller: HttpPrincipal,
): Promise<FastifyReply> {
  const body = readJsonObject(request);
  const result = await deps.bindings.bindInstance({
    frontend: stringField(body, "frontend"),
    channelId: stringField(body, "channel_id"),
    instanceId: stringField(body, "instance_id"),
    actor: caller.id,
  });
  return sendJson(reply, result.isChanged ? 201 : 200, bindingAnswer(result.binding.id, result.agent, result.reboundFrom));
}

/** DELETE `?frontend&channel_id`: removes the binding (audited). 204 with no body. */
async function deleteBinding(
  deps: BindingRouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  caller: HttpPrincipal,
): Promise<FastifyReply> {
  const frontend = queryParam(request, "frontend");
  const channelId = queryParam(request, "channel_id");
  if (frontend === undefined || channelId === undefined) {
    throw new GatewayError("INVALID_ARGUMENT", "frontend and channel_id query params required");
  }
  await deps.bindings.deleteByChannel({ frontend, channelId, actor: caller.id });
  return reply.code(204).send();
}

function bindingAnswer(bindingId: string, agent: AgentInfo, reboundFrom: string | null): Record<string, unknown> {
  return { binding_id: bindingId, agent_name: agent.name, working_dir: agent.workingDir, rebound_from: reboundFrom };
}
