// ABOUTME: Routing of `/api/send` (http-api.md §11): an explicit agent_id, else a (frontend, channel_id) binding.
// ABOUTME: Shared by the HTTP and WebSocket sends; the binding lookup is a port over the bindings table (binding-lookup.ts).
import type { AgentManager } from "../agent/agent-manager.js";
import type { ThreadTarget } from "./thread-resolver.js";
import { GatewayError } from "../lib/gateway-error.js";

/** Outcome of routing a channel through its binding. */
export type BindingRoute = { kind: "unbound" } | { kind: "unavailable" } | { kind: "agent"; agentId: string };

/**
 * Resolves `(frontend, channel_id)` to a connected agent by its binding (§11 rule 2): `unbound` when there is no
 * binding, `unavailable` when no connected agent matches the binding's principal and working_dir. Store failures
 * are thrown and answered 500.
 */
export interface BindingLookup {
  route(frontend: string, channelId: string): Promise<BindingRoute>;
}

/** Where a `/api/send` message goes: the connection agent_id and the thread target (§12). */
export interface SendTarget {
  agentId: string;
  thread: Omit<ThreadTarget, "agentId">;
}

/**
 * Applies the routing rules in order. Throws GatewayError UNAVAILABLE `agent unavailable` (503), INVALID_ARGUMENT
 * `channel not bound to agent` or `must specify agent_id or frontend+channel_id` (400).
 */
export async function resolveSendTarget(
  request: { agentId: string; frontend: string; channelId: string; threadId: string },
  deps: { agents: AgentManager; bindings: BindingLookup },
): Promise<SendTarget> {
  const threadId = request.threadId === "" ? undefined : request.threadId;
  if (request.agentId !== "") {
    if (deps.agents.get(request.agentId) === undefined) throw new GatewayError("UNAVAILABLE", "agent unavailable");
    return { agentId: request.agentId, thread: { threadId, frontendName: "direct" } };
  }
  if (request.frontend !== "" && request.channelId !== "") {
    const route = await deps.bindings.route(request.frontend, request.channelId);
    if (route.kind === "unbound") throw new GatewayError("INVALID_ARGUMENT", "channel not bound to agent");
    if (route.kind === "unavailable") throw new GatewayError("UNAVAILABLE", "agent unavailable");
    return {
      agentId: route.agentId,
      thread: { threadId, frontendName: request.frontend, externalId: request.channelId },
    };
  }
  throw new GatewayError("INVALID_ARGUMENT", "must specify agent_id or frontend+channel_id");
}
