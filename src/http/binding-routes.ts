// ABOUTME: `/api/bindings` (http-api.md §6): list or read one binding, bind a channel to a connected agent instance
// ABOUTME: (admin/owner; delete+insert+audit in one transaction), and unbind (admin/owner, audited).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AgentInfo } from "../agent/agent-connection.js";
import type { AgentManager } from "../agent/agent-manager.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { IdSource } from "../lib/ids.js";
import { createAuditRepository } from "../store/audit-repository.js";
import { createBindingRepository, type Binding } from "../store/binding-repository.js";
import { inTransaction, type StoreExecutor } from "../store/transaction.js";
import { findBoundAgent } from "../conversation/binding-lookup.js";
import type { HttpPrincipal } from "./http-auth.js";
import { sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { readJsonObject, stringField } from "./request-body.js";
import { queryParam } from "./route-input.js";

export interface BindingRouteDeps {
  agents: AgentManager;
  /** The database: reads go through it, and each change runs in one transaction with its audit rows. */
  db: StoreExecutor;
  clock: Clock;
  ids: IdSource;
}

/**
 * The admin gate of http-api.md §2: returns the caller when its roles hold `admin` or `owner`. Throws GatewayError
 * UNAUTHENTICATED `not authenticated` without an auth context, PERMISSION_DENIED `admin role required` otherwise.
 */
export function requireAdminRole(request: FastifyRequest): HttpPrincipal {
  const principal = request.principal;
  if (principal === null) throw new GatewayError("UNAUTHENTICATED", "not authenticated");
  if (!principal.roles.includes("admin") && !principal.roles.includes("owner")) {
    throw new GatewayError("PERMISSION_DENIED", "admin role required");
  }
  return principal;
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
          return createBinding(deps, request, reply, requireAdminRole(request));
        case "DELETE":
          return deleteBinding(deps, request, reply, requireAdminRole(request));
        default:
          return sendMethodNotAllowed(reply);
      }
    });
  };
}

/** GET: the single form with both `frontend` and `channel_id`, else the list, newest first. */
async function getBindings(deps: BindingRouteDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const bindings = createBindingRepository(deps.db);
  const frontend = queryParam(request, "frontend");
  const channelId = queryParam(request, "channel_id");
  const connected = deps.agents.list();
  if (frontend !== undefined && channelId !== undefined) {
    const binding = await bindings.findByChannel(frontend, channelId);
    if (binding === undefined) throw new GatewayError("NOT_FOUND", "no binding for this channel");
    const agent = findBoundAgent(connected, binding);
    return sendJson(reply, 200, {
      binding_id: binding.id,
      agent_name: agent?.name ?? "",
      working_dir: binding.workingDir,
      online: agent !== undefined,
    });
  }
  const all = await bindings.list();
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
 * POST: binds `(frontend, channel_id)` to the connection with `instance_id`. 200 when the binding already points
 * there (nothing written), else 201 after deleting any old binding and inserting the new one in one transaction
 * with the audit rows `delete_binding` (on a rebind) and `create_binding`. A lost race on the unique key is 409.
 */
async function createBinding(
  deps: BindingRouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  caller: HttpPrincipal,
): Promise<FastifyReply> {
  const body = readJsonObject(request);
  const frontend = stringField(body, "frontend");
  const channelId = stringField(body, "channel_id");
  const instanceId = stringField(body, "instance_id");
  if (frontend === "" || channelId === "" || instanceId === "") {
    throw new GatewayError("INVALID_ARGUMENT", "frontend, channel_id, and instance_id are required");
  }
  const agent = deps.agents.findByInstanceId(instanceId);
  if (agent === undefined) throw new GatewayError("NOT_FOUND", `no agent online with instance_id '${instanceId}'`);
  const existing = await createBindingRepository(deps.db).findByChannel(frontend, channelId);
  if (existing !== undefined && existing.agentId === agent.principalId && existing.workingDir === agent.workingDir) {
    return sendJson(reply, 200, bindingAnswer(existing.id, agent, null));
  }
  const reboundFrom = existing === undefined ? null : reboundName(deps.agents.list(), existing);
  const now = isoTimestamp(deps.clock.now());
  const created = await inTransaction(deps.db, async (trx) => {
    const bindings = createBindingRepository(trx);
    const audit = createAuditRepository(trx);
    if (existing !== undefined && (await bindings.delete(existing.id))) {
      await audit.record(auditEntry("delete_binding", existing, caller, now));
    }
    const binding = await bindings.insert({
      id: deps.ids.uuid(),
      frontend,
      channelId,
      agentId: agent.principalId,
      workingDir: agent.workingDir,
      createdBy: caller.id,
      now,
    });
    if (binding === undefined) throw new GatewayError("ALREADY_EXISTS", "binding already exists");
    await audit.record(auditEntry("create_binding", binding, caller, now));
    return binding;
  });
  return sendJson(reply, 201, bindingAnswer(created.id, agent, reboundFrom));
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
  const now = isoTimestamp(deps.clock.now());
  await inTransaction(deps.db, async (trx) => {
    const bindings = createBindingRepository(trx);
    const existing = await bindings.findByChannel(frontend, channelId);
    if (existing === undefined || !(await bindings.delete(existing.id))) {
      throw new GatewayError("NOT_FOUND", "binding not found");
    }
    await createAuditRepository(trx).record(auditEntry("delete_binding", existing, caller, now));
  });
  return reply.code(204).send();
}

function bindingAnswer(bindingId: string, agent: AgentInfo, reboundFrom: string | null): Record<string, unknown> {
  return { binding_id: bindingId, agent_name: agent.name, working_dir: agent.workingDir, rebound_from: reboundFrom };
}

/** The old binding's agent name when a matching agent is online, else its principal id. */
function reboundName(connected: readonly AgentInfo[], old: Binding): string {
  return findBoundAgent(connected, old)?.name ?? old.agentId;
}

function auditEntry(action: "create_binding" | "delete_binding", binding: Binding, caller: HttpPrincipal, now: string) {
  return {
    actor: caller.id,
    action,
    targetType: "binding",
    targetId: binding.id,
    detail: {
      frontend: binding.frontend,
      channel_id: binding.channelId,
      agent_id: binding.agentId,
      working_dir: binding.workingDir,
    },
    now,
  };
}
