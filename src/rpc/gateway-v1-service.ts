// ABOUTME: coven.gateway.v1.GatewayService on the gRPC server: our own additions to the wire contract (wire.md §1):
// ABOUTME: Inject (agent-stream.md §10), CancelRequest (http-api.md §8), ListAgentStates (§13), Get/SetMaintenance (ops.md §5).
import { create, type DescService } from "@bufbuild/protobuf";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { AgentManager } from "../agent/agent-manager.js";
import type { InjectionPriority } from "../agent/agent-frames.js";
import type { ConversationService } from "../conversation/conversation-service.js";
import * as v1 from "../gen/coven/gateway/v1/gateway_pb.js";
import * as pb from "../gen/coven_pb.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import type { Maintenance, MaintenanceState } from "../ops/maintenance.js";
import type { RpcAuthenticator } from "./rpc-auth.js";
import { adminGated, authenticatedUnary, methodPath } from "./rpc-handlers.js";

export interface GatewayV1ServiceDeps {
  agents: Pick<AgentManager, "inject" | "list">;
  conversations: Pick<ConversationService, "cancel">;
  /** The gateway's RPC authenticator; Inject and CancelRequest additionally require `admin` or `owner`. */
  auth: RpcAuthenticator;
  log: Logger;
  /** The maintenance switch (ops.md §5): GetMaintenance reads it, SetMaintenance (admin/owner) sets it. */
  maintenance: Pick<Maintenance, "state" | "set">;
}

function encodeMaintenance(state: MaintenanceState): v1.MaintenanceState {
  return create(v1.MaintenanceStateSchema, {
    enabled: state.enabled,
    message: state.message,
    ...(state.since === null ? {} : { since: state.since }),
  });
}

/** The reason sent with a cancel that names none (as the HTTP cancel API). */
export const DEFAULT_CANCEL_REASON = "user_requested";

const PRIORITIES: ReadonlyMap<pb.InjectionPriority, InjectionPriority> = new Map([
  [pb.InjectionPriority.UNSPECIFIED, "normal"],
  [pb.InjectionPriority.IMMEDIATE, "immediate"],
  [pb.InjectionPriority.NORMAL, "normal"],
  [pb.InjectionPriority.DEFERRED, "deferred"],
]);

/**
 * Builds GatewayService. Every call authenticates first. Errors (mapped by status-map): Inject — PERMISSION_DENIED
 * `admin role required`, INVALID_ARGUMENT `agent_id is required` / `content is required` / `unknown injection
 * priority <n>`, NOT_FOUND `agent not found`, FAILED_PRECONDITION `agent does not support injection`; the outcomes
 * `accepted`, `rejected` (with reason), `timeout`, `agent_disconnected` are answers, not errors. CancelRequest —
 * PERMISSION_DENIED `admin role required`, INVALID_ARGUMENT `id is required`, NOT_FOUND `request not found`.
 * SetMaintenance — PERMISSION_DENIED `admin role required`, INVALID_ARGUMENT `message exceeds 200 characters`.
 */
export function createGatewayV1Service(deps: GatewayV1ServiceDeps): {
  service: DescService;
  implementation: UntypedServiceImplementation;
} {
  const path = (name: string) => methodPath(v1.GatewayService, name);
  const member = { auth: deps.auth, log: deps.log };
  const admin = { auth: adminGated(deps.auth), log: deps.log };
  const implementation = {
    Inject: authenticatedUnary<v1.InjectRequest, v1.InjectResponse>(admin, path("Inject"), async (request) => {
      if (request.agentId === "") throw new GatewayError("INVALID_ARGUMENT", "agent_id is required");
      if (request.content === "") throw new GatewayError("INVALID_ARGUMENT", "content is required");
      const priority = PRIORITIES.get(request.priority);
      if (priority === undefined) throw new GatewayError("INVALID_ARGUMENT", `unknown injection priority ${request.priority}`);
      const result = await deps.agents.inject(request.agentId, request.content, priority, request.source);
      return create(v1.InjectResponseSchema, {
        injectionId: result.injectionId,
        outcome: result.outcome,
        ...(result.outcome === "rejected" ? { reason: result.reason } : {}),
      });
    }),
    CancelRequest: authenticatedUnary<v1.CancelRequestRequest, v1.CancelRequestResponse>(admin, path("CancelRequest"), async (request) => {
      if (request.id === "") throw new GatewayError("INVALID_ARGUMENT", "id is required");
      const reason = request.reason === undefined || request.reason === "" ? DEFAULT_CANCEL_REASON : request.reason;
      const { requestId } = deps.conversations.cancel(request.id, reason);
      return create(v1.CancelRequestResponseSchema, { requestId, status: "canceling" });
    }),
    ListAgentStates: authenticatedUnary<v1.ListAgentStatesRequest, v1.ListAgentStatesResponse>(member, path("ListAgentStates"), async () =>
      create(v1.ListAgentStatesResponseSchema, {
        agents: deps.agents.list().map((agent) => ({
          agentId: agent.agentId,
          name: agent.name,
          state: agent.state,
          pendingRequests: agent.pendingRequests,
        })),
      }),
    ),
    GetMaintenance: authenticatedUnary<v1.GetMaintenanceRequest, v1.MaintenanceState>(member, path("GetMaintenance"), async () =>
      encodeMaintenance(deps.maintenance.state()),
    ),
    SetMaintenance: authenticatedUnary<v1.SetMaintenanceRequest, v1.MaintenanceState>(admin, path("SetMaintenance"), async (request, caller) =>
      encodeMaintenance(await deps.maintenance.set({ enabled: request.enabled, message: request.message, actor: caller.id })),
    ),
  };
  return { service: v1.GatewayService, implementation: implementation as UntypedServiceImplementation };
}
