// ABOUTME: One entry of the connected-agent list (`GET /api/agents`, WS `agents.list`, presence events).
// ABOUTME: Shared by every edge so the keys and their order are defined once.
import type { AgentInfo } from "./agent-connection.js";

/** One entry of the agent list, keys in the spec's order, empty optional values omitted. */
export function agentListing(agent: AgentInfo): Record<string, unknown> {
  return {
    id: agent.agentId,
    ...(agent.instanceId === "" ? {} : { instance_id: agent.instanceId }),
    name: agent.name,
    capabilities: [...agent.capabilities],
    ...(agent.workspaces.length === 0 ? {} : { workspaces: [...agent.workspaces] }),
    ...(agent.workingDir === "" ? {} : { working_dir: agent.workingDir }),
    ...(agent.backend === "" ? {} : { backend: agent.backend }),
    state: agent.state === "busy" || agent.pendingRequests > 0 ? "busy" : "idle",
  };
}
