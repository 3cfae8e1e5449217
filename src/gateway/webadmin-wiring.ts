// ABOUTME: Mounts the web admin edge on the gateway's HTTP app: admin sessions, pages, chat and passkeys over the
// ABOUTME: same domain the API uses (agents, identity service, approvals, questions, turn pipeline, event hub).
import { createRequire } from "node:module";
import type { FastifyInstance } from "fastify";
import type { AgentManager } from "../agent/agent-manager.js";
import { parseHostPort, publicBaseUrl } from "../config/derived.js";
import type { GatewayConfig } from "../config/types.js";
import type { ApprovalService } from "../conversation/approval-service.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import type { StoreExecutor } from "../store/transaction.js";
import { createWebAdmin, type WebAdmin } from "../webadmin/web-admin.js";
import type { GatewayIdentity } from "./identity-wiring.js";

export type { WebAdmin } from "../webadmin/web-admin.js";

/** The package version for the sidebar footer, read from package.json (src/ under vitest, dist/src/ when built). */
function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ["../../package.json", "../../../package.json"]) {
    try {
      return (require(candidate) as { version: string }).version;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw err;
    }
  }
  return "0.0.0";
}

/** Registers the web admin on `app` (before it listens) and starts its session purge. */
export async function mountWebAdmin(deps: {
  app: FastifyInstance;
  config: GatewayConfig;
  env: NodeJS.ProcessEnv;
  db: StoreExecutor;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  agents: AgentManager;
  identity: GatewayIdentity;
  approvals: ApprovalService;
  /** The HTTP port once bound (the base URL derives from it when `webadmin.base_url` is empty). */
  httpPort(): number;
  isShuttingDown(): boolean;
}): Promise<WebAdmin> {
  const { config } = deps;
  const webAdmin = createWebAdmin({
    db: deps.db,
    clock: deps.clock,
    ids: deps.ids,
    log: deps.log,
    agents: deps.agents,
    identity: deps.identity.service,
    approvals: deps.approvals,
    isAuthEnabled: deps.identity.isAuthEnabled,
    baseUrl: () => publicBaseUrl(config, deps.httpPort(), deps.env),
    grpcPort: () => parseHostPort(config.server.grpcAddr).port,
    version: packageVersion(),
    maxBodyBytes: config.limits.maxBodyBytes,
    lifecycle: { isShuttingDown: deps.isShuttingDown },
  });
  await deps.app.register(webAdmin.plugin);
  webAdmin.start();
  return webAdmin;
}
