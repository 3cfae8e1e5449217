// ABOUTME: The store-backed BindingLookup of `/api/send` (http-api.md §11 rule 2) and the one matcher that finds a
// ABOUTME: binding's connected agent (principal_id AND working_dir exactly, newest connection wins).
import type { AgentInfo } from "../agent/agent-connection.js";
import type { AgentManager } from "../agent/agent-manager.js";
import type { BindingRepository } from "../store/binding-repository.js";
import type { BindingLookup } from "./send-target.js";

/** What a binding points at: an agent principal and a working directory (`""` when unset). */
export interface BindingTarget {
  agentId: string;
  workingDir: string;
}

/**
 * The connected agent a binding routes to: principal_id equals the binding's `agentId` and working_dir equals its
 * `workingDir` (exact strings; `""` matches `""`). When several match, the most recently connected one wins (ties
 * broken by the greater agent_id, so the answer is deterministic). Undefined when none matches.
 */
export function findBoundAgent(agents: readonly AgentInfo[], binding: BindingTarget): AgentInfo | undefined {
  let best: AgentInfo | undefined;
  for (const agent of agents) {
    if (agent.principalId !== binding.agentId || agent.workingDir !== binding.workingDir) continue;
    if (best === undefined || isNewer(agent, best)) best = agent;
  }
  return best;
}

function isNewer(a: AgentInfo, b: AgentInfo): boolean {
  const at = a.connectedAt.getTime();
  const bt = b.connectedAt.getTime();
  return at !== bt ? at > bt : a.agentId > b.agentId;
}

/**
 * Builds the BindingLookup over the bindings table and the connected agents: `unbound` without a binding,
 * `unavailable` when no connected agent matches it (findBoundAgent), else the matching connection's agent_id.
 * Store failures are thrown as they are (the send route answers 500).
 */
export function createBindingLookup(deps: { agents: AgentManager; bindings: BindingRepository }): BindingLookup {
  return {
    async route(frontend, channelId) {
      const binding = await deps.bindings.findByChannel(frontend, channelId);
      if (binding === undefined) return { kind: "unbound" };
      const agent = findBoundAgent(deps.agents.list(), binding);
      return agent === undefined ? { kind: "unavailable" } : { kind: "agent", agentId: agent.agentId };
    },
  };
}
