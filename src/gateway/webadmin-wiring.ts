// ABOUTME: Mounts the web admin edge on the gateway's HTTP app: admin sessions, pages, chat and passkeys over the
// ABOUTME: same domain the API uses (agents, identity service, approvals, questions, turn pipeline, event hub).
import type { FastifyInstance } from "fastify";
import { publicBaseUrl } from "../config/derived.js";
import type { GatewayConfig } from "../config/types.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { packageVersion } from "../lib/package-version.js";
import { createWebAdmin, type WebAdmin } from "../webadmin/web-admin.js";
import type { GatewayDomain } from "./create-domain.js";

export type { WebAdmin } from "../webadmin/web-admin.js";

/** Registers the web admin on `app` (before it listens) and starts its session purge. */
export async function mountWebAdmin(deps: {
  app: FastifyInstance;
  domain: GatewayDomain;
  config: GatewayConfig;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** The bound ports once listening (the base URL derives from the HTTP one when `webadmin.base_url` is empty). */
  ports: { http(): number; grpc(): number };
  isShuttingDown(): boolean;
}): Promise<WebAdmin> {
  const { config, domain } = deps;
  const webAdmin = createWebAdmin({
    db: domain.db,
    clock: deps.clock,
    ids: deps.ids,
    log: deps.log,
    agents: domain.agents,
    identity: domain.identity.service,
    approvals: domain.approvals,
    questions: domain.questions,
    conversations: domain.conversations,
    hub: domain.hub,
    ledger: domain.ledger,
    subscriberQueue: config.limits.subscriberQueue,
    pairing: domain.pairing,
    bindings: domain.bindings,
    links: domain.links,
    registry: domain.packs.registry,
    isAuthEnabled: domain.identity.isAuthEnabled,
    baseUrl: () => publicBaseUrl(config, deps.ports.http(), deps.env),
    grpcPort: deps.ports.grpc,
    version: packageVersion(),
    maxBodyBytes: config.limits.maxBodyBytes,
    lifecycle: { isShuttingDown: deps.isShuttingDown },
    sendAdmission: domain.ops.send,
    authFailed: (reason) => domain.ops.webAuthFailed(reason),
    currency: domain.ops.costs.currency,
  });
  await deps.app.register(webAdmin.plugin);
  webAdmin.start();
  return webAdmin;
}
