// ABOUTME: Builds the tool registry with the builtin packs, the router and the agent-side tool executor.
// ABOUTME: Kept out of create-gateway.ts so the tool path is wired in one place.
import type { Kysely } from "kysely";
import type { PackToolExecutor, ToolCatalog } from "../agent/agent-ports.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import type { GatewayMetrics, PackOutcome } from "../ops/gateway-metrics.js";
import { registerBuiltinPacks } from "../packs/builtin/builtin-packs.js";
import { ToolRegistry } from "../packs/tool-registry.js";
import { createAgentPackTools, createToolRouter, RouterError, type ToolRouter } from "../packs/tool-router.js";
import type { Database } from "../store/schema.js";

export interface GatewayPacks {
  registry: ToolRegistry;
  router: ToolRouter;
  /** What AgentManager offers in every Welcome. */
  catalog: ToolCatalog;
  /** What AgentManager runs for `execute_pack_tool`. */
  agentTools: PackToolExecutor;
}

/** Builds the tool path over an opened, migrated store. */
export function createPacks(deps: { db: Kysely<Database>; clock: Clock; ids: IdSource; log: Logger; metrics?: GatewayMetrics }): GatewayPacks {
  const registry = new ToolRegistry({ log: deps.log });
  registerBuiltinPacks(registry, deps);
  const inner = createToolRouter({ registry, log: deps.log });
  const router = deps.metrics === undefined ? inner : meteredRouter(inner, registry, deps.metrics);
  return {
    registry,
    router,
    catalog: { toolsFor: (capabilities) => registry.toolsFor(capabilities) },
    agentTools: createAgentPackTools({ registry, router, log: deps.log }),
  };
}

const FAILURE_OUTCOME: Record<RouterError["failure"], PackOutcome> = {
  "tool not found": "not_found",
  "pack disconnected": "disconnected",
  "duplicate request ID": "error",
  "context deadline exceeded": "timeout",
  "context canceled": "error",
  "internal error": "error",
};

/** Counts every routed call by pack and outcome, and its duration (ops.md §1.3 `coven_pack_calls_total`). */
function meteredRouter(router: ToolRouter, registry: ToolRegistry, metrics: GatewayMetrics): ToolRouter {
  return {
    async route(toolName, inputJson, requestId, caller, signal) {
      const pack = registry.get(toolName)?.owner.packId;
      const startedAt = performance.now();
      const seconds = () => (performance.now() - startedAt) / 1000;
      try {
        const outcome = await router.route(toolName, inputJson, requestId, caller, signal);
        metrics.packCall(pack, "outputJson" in outcome ? "ok" : "error", seconds());
        return outcome;
      } catch (err) {
        const outcome = err instanceof RouterError ? FAILURE_OUTCOME[err.failure] : "error";
        metrics.packCall(outcome === "not_found" ? undefined : pack, outcome, outcome === "not_found" ? undefined : seconds());
        throw err;
      }
    },
  };
}
