// ABOUTME: Builds the tool registry with the builtin packs, the router and the agent-side tool executor.
// ABOUTME: Kept out of create-gateway.ts so the tool path is wired in one place.
import type { Kysely } from "kysely";
import type { PackToolExecutor, ToolCatalog } from "../agent/agent-ports.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { registerBuiltinPacks } from "../packs/builtin/builtin-packs.js";
import { ToolRegistry } from "../packs/tool-registry.js";
import { createAgentPackTools, createToolRouter, type ToolRouter } from "../packs/tool-router.js";
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
export function createPacks(deps: { db: Kysely<Database>; clock: Clock; ids: IdSource; log: Logger }): GatewayPacks {
  const registry = new ToolRegistry({ log: deps.log });
  registerBuiltinPacks(registry, deps);
  const router = createToolRouter({ registry, log: deps.log });
  return {
    registry,
    router,
    catalog: { toolsFor: (capabilities) => registry.toolsFor(capabilities) },
    agentTools: createAgentPackTools({ registry, router, log: deps.log }),
  };
}
