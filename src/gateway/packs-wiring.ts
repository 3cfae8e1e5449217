// ABOUTME: Builds the tool registry with the builtin packs, the live external packs, the router and the agent-side
// ABOUTME: tool executor, plus PackService for the gRPC server. Kept out of create-gateway.ts so the tool path is wired in one place.
import type { DescService } from "@bufbuild/protobuf";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import type { PackToolExecutor, ToolCatalog } from "../agent/agent-ports.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { registerBuiltinPacks } from "../packs/builtin/builtin-packs.js";
import { ExternalPacks, type PackStreamEnd } from "../packs/external-packs.js";
import { ToolRegistry } from "../packs/tool-registry.js";
import { createAgentPackTools, createToolRouter, type ToolRouter } from "../packs/tool-router.js";
import { createPackService } from "../rpc/pack-service.js";
import type { RpcAuthenticator } from "../rpc/rpc-auth.js";
import type { Database } from "../store/schema.js";

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

/** Builds the tool path over an opened, migrated store. */
export function createPacks(deps: { db: Kysely<Database>; clock: Clock; ids: IdSource; log: Logger }): GatewayPacks {
  const registry = new ToolRegistry({ log: deps.log });
  registerBuiltinPacks(registry, deps);
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
