// ABOUTME: Mounts the WebSocket edge (GET /ws, ws.md) on the HTTP app over the domain every other edge uses, and
// ABOUTME: ends a removed principal's connections; the composition root calls its shutdown steps.
import type { FastifyInstance } from "fastify";
import type { GatewayConfig } from "../config/types.js";
import { publicBaseUrl } from "../config/derived.js";
import { createBindingLookup } from "../conversation/binding-lookup.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { packageVersion } from "../lib/package-version.js";
import { createBindingRepository } from "../store/binding-repository.js";
import type { AdminSession, AdminSessions } from "../webadmin/admin-sessions.js";
import type { WsAdminSession } from "../ws/ws-deps.js";
import { mountWsServer, type WsServer } from "../ws/ws-server.js";
import type { GatewayDomain } from "./create-domain.js";

export type { WsServer } from "../ws/ws-server.js";

/** Mounts `/ws` and `/ws/schema.json` on `app` (before it listens). */
export async function mountWs(options: {
  app: FastifyInstance;
  domain: GatewayDomain;
  config: GatewayConfig;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  env: NodeJS.ProcessEnv;
  httpPort: () => number;
  isShuttingDown: () => boolean;
  /** The web admin's sessions, when the web admin edge is mounted: the cookie credential of ws.md §2.2. */
  adminSessions?: Pick<AdminSessions, "resolveCookieHeader" | "onDeleted">;
}): Promise<WsServer> {
  const { domain, config, log, adminSessions } = options;
  const { identity } = domain;
  const server = await mountWsServer(options.app, {
    agents: domain.agents,
    conversations: domain.conversations,
    ledger: domain.ledger,
    hub: domain.hub,
    approvals: domain.approvals,
    questions: domain.questions,
    bindings: createBindingLookup({ agents: domain.agents, bindings: createBindingRepository(domain.db) }),
    idempotency: domain.idempotency,
    resolver: identity.resolver,
    lockout: identity.isAuthEnabled ? identity.lockout : undefined,
    adminSessions: adminSessions === undefined ? undefined : { resolve: async (header) => toWsSession(await adminSessions.resolveCookieHeader(header)) },
    publicOrigin: () => new URL(publicBaseUrl(config, options.httpPort(), options.env)).origin,
    serverId: () => domain.agents.serverId,
    version: packageVersion(),
    limits: config.limits,
    clock: options.clock,
    ids: options.ids,
    log,
    lifecycle: { isShuttingDown: options.isShuttingDown },
    ops: domain.ops.ws(),
  });
  identity.service.onPrincipalRemoved(({ principalId, reason }) => server.closePrincipal(principalId, reason));
  domain.ops.maintenance.onChange((state) => server.announceMaintenance(state));
  // web-admin.md §3.2 addition (ws.md §12): logout closes that session's sockets 4401 `session ended`.
  adminSessions?.onDeleted((sessionId) => server.closeAdminSession(sessionId));
  return server;
}

function toWsSession(session: AdminSession | undefined): WsAdminSession | undefined {
  if (session === undefined) return undefined;
  return { adminUserId: session.userId, username: session.user.username, sessionId: session.id, expiresAt: session.expiresAt };
}
