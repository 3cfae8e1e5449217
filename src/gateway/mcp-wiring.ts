// ABOUTME: Mounts the MCP server on the gateway's fastify app, over the tool registry, router and agent MCP tokens.
// ABOUTME: Bearer JWTs go through the shared principal resolver; owner/admin principals get the wildcard (§6.3).
import type { FastifyInstance } from "fastify";
import type { AgentManager } from "../agent/agent-manager.js";
import type { PrincipalResolver } from "../auth/principal-resolver.js";
import { isAdmin } from "../auth/roles.js";
import { isGatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import { registerMcpServer, type McpIdentity, type McpOps, type McpRefusal } from "../mcp/mcp-server.js";
import type { GatewayPacks } from "./packs-wiring.js";

export interface GatewayMcp {
  close(): Promise<void>;
}

/** Registers `/mcp` on `app` (before it listens). */
export async function mountMcp(deps: {
  app: FastifyInstance;
  packs: GatewayPacks;
  agents: AgentManager;
  resolver: PrincipalResolver;
  isAuthEnabled: boolean;
  /** True once stop began: MCP answers 503 like the rest of the API. */
  isShuttingDown: () => boolean;
  log: Logger;
  ops?: McpOps;
}): Promise<GatewayMcp> {
  const { resolver } = deps;
  return registerMcpServer(deps.app, {
    registry: deps.packs.registry,
    router: deps.packs.router,
    log: deps.log,
    isAuthEnabled: deps.isAuthEnabled,
    isShuttingDown: deps.isShuttingDown,
    ...(deps.ops === undefined ? {} : { ops: deps.ops }),
    resolveMcpToken: (token) => deps.agents.resolveMcpToken(token),
    async verifyBearer(token): Promise<McpIdentity | McpRefusal> {
      try {
        const principal = await resolver.resolveAuthorization(`Bearer ${token}`);
        return { agentId: principal.id, principalId: principal.id, capabilities: isAdmin(principal.roles) ? "*" : [] };
      } catch (err) {
        if (isGatewayError(err, "PERMISSION_DENIED")) return { status: 403, message: err.message, ...(err.reason === undefined ? {} : { reason: err.reason }) };
        return { status: 401, message: "invalid or expired token" };
      }
    },
  });
}
