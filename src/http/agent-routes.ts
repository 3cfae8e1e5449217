// ABOUTME: GET /api/agents (the connected agent list) and the `/api/agents/` suffix dispatch (http-api.md §3, §5):
// ABOUTME: `.../history` goes to history, `.../send` to the leader send, anything else is a 400.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AgentManager } from "../agent/agent-manager.js";
import { GatewayError } from "../lib/gateway-error.js";
import { sendJsonBytes, sendMethodNotAllowed } from "./http-reply.js";
import { idBeforeSuffix, queryParam, wildcardParam } from "./route-input.js";

type SubrouteHandler = (request: FastifyRequest, reply: FastifyReply, agentId: string) => Promise<FastifyReply>;

export interface AgentRouteDeps {
  agents: AgentManager;
  history: SubrouteHandler;
  send: SubrouteHandler;
}

/**
 * Registers `/api/agents` and `/api/agents/*`. Must be registered inside the JWT scope: the suffix dispatch runs
 * after auth and before each sub-route's method check.
 */
export function agentRoutes(deps: AgentRouteDeps) {
  return async function registerAgentRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/agents", async (request, reply) => {
      if (request.method !== "GET") return sendMethodNotAllowed(reply);
      const workspace = queryParam(request, "workspace");
      return sendJsonBytes(reply, 200, deps.agents.listingJson(workspace));
    });

    app.all("/api/agents/*", async (request, reply) => {
      const rest = wildcardParam(request);
      const history = idBeforeSuffix(rest, "history");
      if (history !== undefined) return deps.history(request, reply, history);
      const send = idBeforeSuffix(rest, "send");
      if (send !== undefined) return deps.send(request, reply, send);
      throw new GatewayError("INVALID_ARGUMENT", "invalid path: must end with /history or /send");
    });
  };
}
