// ABOUTME: Builds the tool registry, the live external packs, the router, the agent-side tool executor and PackService.
// ABOUTME: Kept out of create-gateway.ts so the tool path is wired in one place.
import type { DescService } from "@bufbuild/protobuf";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { PackToolExecutor, ToolCatalog } from "../agent/agent-ports.js";
import type { Logger } from "../lib/logger.js";
import { ExternalPacks, type PackStreamEnd } from "../packs/external-packs.js";
import { ToolRegistry } from "../packs/tool-registry.js";
import { createAgentPackTools, createToolRouter, type ToolRouter } from "../packs/tool-router.js";
import { createPackService } from "../rpc/pack-service.js";
import type { RpcAuthenticator } from "../rpc/rpc-auth.js";

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
export function createPacks(deps: { log: Logger }): GatewayPacks {
  const registry = new ToolRegistry({ log: deps.log });
  const externals = new ExternalPacks({ registry, log: deps.log });
  const router = createToolRouter({ registry, externals, log: deps.log });
  return {
    registry,
    externals,
    router,
    catalog: { toolsFor: (capabilities) => registry.toolsFor(capabilities) },
    agentTools: createAgentPackTools({ registry, router, log: deps.log }),
    service: (auth) => createPackService({ auth, log: deps.log, packs: externals }),
    closePrincipal: (principalId, end) => externals.closePrincipal(principalId, end),
    close: () => externals.shutdown(),
  };
}
