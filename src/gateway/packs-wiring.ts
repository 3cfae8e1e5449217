// ABOUTME: Builds the tool registry, the live external packs, the router, the agent-side tool executor and PackService.
// ABOUTME: Kept out of create-gateway.ts so the tool path is wired in one place.
import type { DescService } from "@bufbuild/protobuf";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { PackToolExecutor, ToolCatalog } from "../agent/agent-ports.js";
import { hasCapabilities } from "../packs/tool-registry.js";
import type { Logger } from "../lib/logger.js";
import type { GatewayMetrics, PackOutcome } from "../ops/gateway-metrics.js";
import { ExternalPacks, type PackStreamEnd } from "../packs/external-packs.js";
import { ToolRegistry } from "../packs/tool-registry.js";
import { createAgentPackTools, createToolRouter, RouterError, type ToolRouter } from "../packs/tool-router.js";
import { createPackService } from "../rpc/pack-service.js";
import type { RpcAuthenticator } from "../rpc/rpc-auth.js";
import type { GuardedCall } from "./ops-wiring.js";

/** The guard over one ExecutePackTool call: resolves to a refusal text, or undefined to run it (it may hold first). */
export type PackToolGuard = (call: GuardedCall) => Promise<string | undefined>;

export interface GatewayPacks {
  registry: ToolRegistry;
  externals: ExternalPacks;
  router: ToolRouter;
  /** What AgentManager offers in every Welcome. */
  catalog: ToolCatalog;
  /** What AgentManager runs for `execute_pack_tool`. */
  agentTools: PackToolExecutor;
  /** `coven.PackService` for the gRPC server. */
  service(auth: RpcAuthenticator): { service: DescService; implementation: UntypedServiceImplementation };
  /** A principal was revoked or deleted: its packs' Register streams end with `end`. */
  closePrincipal(principalId: string, end: PackStreamEnd): void;
  /** Shutdown: pending external calls fail `pack disconnected`, then every Register stream ends UNAVAILABLE. */
  close(): void;
}

/**
 * Builds the tool path. Builtin packs drive domain services built after the agent manager (which needs this
 * catalog), so they are added with `registerBuiltinPacks(packs.registry, …)` once those exist, before start.
 */
export function createPacks(deps: {
  log: Logger;
  metrics?: GatewayMetrics;
  /** The command guard over ExecutePackTool (ops.md §3.3 `pack_tool`): a refusal text, or undefined to run the call. */
  guard?: PackToolGuard;
}): GatewayPacks {
  const registry = new ToolRegistry({ log: deps.log });
  const externals = new ExternalPacks({ registry, log: deps.log });
  const inner = createToolRouter({ registry, externals, log: deps.log });
  const router = deps.metrics === undefined ? inner : meteredRouter(inner, registry, deps.metrics);
  return {
    registry,
    externals,
    router,
    catalog: { toolsFor: (capabilities) => registry.toolsFor(capabilities) },
    agentTools: guardedPackTools(createAgentPackTools({ registry, router, log: deps.log }), registry, deps.guard),
    service: (auth) => createPackService({ auth, log: deps.log, packs: externals }),
    closePrincipal: (principalId, end) => externals.closePrincipal(principalId, end),
    close: () => externals.shutdown(),
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

/** Runs the guard after the tool-exists and capability checks (those answers stay the executor's own). */
function guardedPackTools(
  inner: PackToolExecutor,
  registry: ToolRegistry,
  guard: PackToolGuard | undefined,
): PackToolExecutor {
  if (guard === undefined) return inner;
  return {
    async execute(call, signal) {
      const tool = registry.get(call.toolName);
      if (tool !== undefined && hasCapabilities(call.capabilities, tool.definition.requiredCapabilities)) {
        const refusal = await guard({
          toolName: call.toolName,
          packId: tool.owner.packId,
          inputJson: call.inputJson,
          agentId: call.agentId,
          principalId: call.principalId,
          requestId: call.requestId,
          signal,
        });
        if (refusal !== undefined) return { error: refusal };
      }
      return inner.execute(call, signal);
    },
  };
}
