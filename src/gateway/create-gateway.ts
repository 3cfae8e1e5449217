// ABOUTME: The one composition root: builds the store, the domain and the edges from a frozen config.
// ABOUTME: `start` opens the store, creates the domain, builds the edges, listens; `stop` runs the ordered shutdown.
import type { FastifyInstance } from "fastify";
import type { AgentManager } from "../agent/agent-manager.js";
import type { GatewayConfig } from "../config/types.js";
import { parseHostPort } from "../config/derived.js";
import type { ConversationService } from "../conversation/conversation-service.js";
import type { EventHub } from "../conversation/event-hub.js";
import type { HttpAuthenticator } from "../http/http-auth.js";
import { systemClock, type Clock } from "../lib/clock.js";
import { randomIds, type IdSource } from "../lib/ids.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import type { RpcAuthenticator } from "../rpc/rpc-auth.js";
import { isMemoryDatabase, openDatabase, type StoreDatabase } from "../store/database.js";
import { acquireDatabaseLock, type DatabaseLock } from "../store/database-lock.js";
import { createDomain, withDeadline, type GatewayDomain } from "./create-domain.js";
import { buildGatewayGrpc, type GatewayGrpc } from "./grpc-wiring.js";
import { buildGatewayHttp } from "./http-wiring.js";
import type { GatewayIdentity } from "./identity-wiring.js";
import { mountMcp, type GatewayMcp } from "./mcp-wiring.js";
import { mountWebAdmin, type WebAdmin } from "./webadmin-wiring.js";
import { mountWs, type WsServer } from "./ws-wiring.js";

export type { GatewayIdentity } from "./identity-wiring.js";

export interface GatewayOverrides {
  log?: Logger;
  clock?: Clock;
  ids?: IdSource;
  /** Environment for derived values (COVEN_MCP_ENDPOINT, COVEN_GATEWAY_URL); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  rpcAuth?: RpcAuthenticator;
  httpAuth?: HttpAuthenticator;
}

export interface GatewayAddresses {
  grpcPort: number;
  httpPort: number;
  /** `host:port` with the bound port, ready for clients. */
  grpcAddr: string;
  httpAddr: string;
  httpUrl: string;
}

/** A running (or runnable) gateway. The domain objects are exposed for tests and the CLI. */
export interface Gateway {
  start(): Promise<GatewayAddresses>;
  /** Ordered shutdown; resolves with the errors its steps collected (each logged; empty when clean). Never rejects. */
  stop(): Promise<readonly unknown[]>;
  readonly agents: AgentManager;
  readonly conversations: ConversationService;
  readonly hub: EventHub;
  readonly store: StoreDatabase;
  /** Resolver, lockout, identity service, presence: what the authenticating edges need. */
  readonly identity: GatewayIdentity;
  /** Every domain object, as the edges got them. */
  readonly domain: GatewayDomain;
  /** The WebSocket edge (its counters, for tests and the ops layer). */
  readonly ws: WsServer;
  /** The HTTP app (for `inject` in tests). */
  readonly http: FastifyInstance;
  /** Web admin sessions and gates (`sessions.resolveCookieHeader` authenticates a browser on other edges). */
  readonly webAdmin: WebAdmin;
}

const EDGE_CLOSE_MS = 2_000;

/**
 * Builds a gateway from a frozen config. Nothing is opened until `start`; `stop` is safe to call at any point and
 * more than once.
 */
export function createGateway(config: GatewayConfig, overrides: GatewayOverrides = {}): Gateway {
  const log = overrides.log ?? silentLogger;
  const clock = overrides.clock ?? systemClock;
  const ids = overrides.ids ?? randomIds;
  const env = overrides.env ?? process.env;
  let boundHttpPort = 0;
  let boundGrpcPort = 0;

  let store: StoreDatabase | undefined;
  let domain: GatewayDomain | undefined;
  let mcp: GatewayMcp | undefined;
  let webAdmin: WebAdmin | undefined;
  let http: FastifyInstance | undefined;
  let grpc: GatewayGrpc | undefined;
  let ws: WsServer | undefined;
  let shuttingDown = false;
  let stopping: Promise<readonly unknown[]> | undefined;
  let dbLock: DatabaseLock | undefined;

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`gateway not started: ${what} unavailable`);
    return value;
  };

  async function start(): Promise<GatewayAddresses> {
    // One gateway per database file: a second one is refused with the holder's pid instead of sharing it unnoticed.
    if (!isMemoryDatabase(config.database.path)) dbLock = acquireDatabaseLock(config.database.path);
    store = await openDatabase({ path: config.database.path, log });
    const dbPath = config.database.path;
    domain = createDomain({ config, db: store.db, writes: store.writes, dbPath, clock, ids, log, env, httpPort: () => boundHttpPort, grpcPort: () => boundGrpcPort });
    await domain.start();
    const { agents, identity, packs } = domain;
    grpc = buildGatewayGrpc({ domain, config, log, auth: overrides.rpcAuth });
    http = buildGatewayHttp({ domain, config, clock, ids, log, auth: overrides.httpAuth, isShuttingDown: () => shuttingDown });
    mcp = await mountMcp({
      app: http,
      packs,
      agents,
      resolver: identity.resolver,
      isAuthEnabled: identity.isAuthEnabled,
      isShuttingDown: () => shuttingDown,
      log,
      ops: domain.ops.mcp(),
    });
    const ports = { http: () => boundHttpPort, grpc: () => boundGrpcPort };
    webAdmin = await mountWebAdmin({ app: http, domain, config, env, clock, ids, log, ports, isShuttingDown: () => shuttingDown });
    const adminSessions = webAdmin.sessions;
    ws = await mountWs({ app: http, domain, config, clock, ids, log, env, httpPort: ports.http, isShuttingDown: () => shuttingDown, adminSessions });

    const grpcTarget = parseHostPort(config.server.grpcAddr);
    let grpcPort: number;
    try {
      ({ port: grpcPort } = await grpc.server.listen(config.server.grpcAddr));
      boundGrpcPort = grpcPort;
    } catch (err) {
      throw new Error(`listening on gRPC address: ${(err as Error).message}`, { cause: err });
    }
    const httpTarget = parseHostPort(config.server.httpAddr);
    try {
      await http.listen({ host: httpTarget.host === "" ? "0.0.0.0" : httpTarget.host, port: httpTarget.port });
    } catch (err) {
      throw new Error(`listening on HTTP address: ${(err as Error).message}`, { cause: err });
    }
    const address = http.server.address();
    boundHttpPort = typeof address === "object" && address ? address.port : httpTarget.port;

    const clientHost = (host: string) => (host === "" || host === "0.0.0.0" || host === "::" ? "localhost" : host);
    const hostPort = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);
    const httpAddr = hostPort(clientHost(httpTarget.host), boundHttpPort);
    log.info("gRPC server listening", { addr: hostPort(grpcTarget.host, grpcPort) });
    log.info("HTTP server listening", { addr: hostPort(httpTarget.host, boundHttpPort) });
    return {
      grpcPort,
      httpPort: boundHttpPort,
      grpcAddr: hostPort(clientHost(grpcTarget.host), grpcPort),
      httpAddr,
      httpUrl: `http://${httpAddr}`,
    };
  }

  async function stopInOrder(): Promise<readonly unknown[]> {
    shuttingDown = true;
    webAdmin?.stop();
    ws?.beginShutdown();
    const errors: unknown[] = [];
    const step = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
        log.error(`shutdown step failed: ${name}`, { cause: err });
      }
    };
    // The domain runs its order (agents, turns, decisions, presence) and calls back for the edges' slots.
    const domainErrors = await domain?.stop({
      endStreams: () => grpc?.endStreams(),
      async closeEdges() {
        await step("ws", async () => ws?.closeAll());
        await step("http", async () => {
          if (!http) return;
          const closing = http.close();
          const closed = await withDeadline(closing, EDGE_CLOSE_MS);
          if (!closed) {
            http.server.closeAllConnections();
            await closing;
          }
        });
        await step("grpc", async () => grpc?.server.stop(EDGE_CLOSE_MS));
        await step("mcp", async () => mcp?.close());
      },
    });
    errors.push(...(domainErrors ?? []));
    await step("database", async () => store?.close());
    await step("database lock", async () => dbLock?.release());
    if (errors.length > 0) log.error("shutdown finished with errors", { count: errors.length, causes: errors });
    return errors;
  }

  return {
    start,
    stop(): Promise<readonly unknown[]> {
      stopping ??= stopInOrder();
      return stopping;
    },
    get agents() {
      return need(domain, "agents").agents;
    },
    get conversations() {
      return need(domain, "conversations").conversations;
    },
    get hub() {
      return need(domain, "hub").hub;
    },
    get store() {
      return need(store, "store");
    },
    get identity() {
      return need(domain, "identity").identity;
    },
    get domain() {
      return need(domain, "domain");
    },
    get ws() {
      return need(ws, "ws");
    },
    get http() {
      return need(http, "http");
    },
    get webAdmin() {
      return need(webAdmin, "webAdmin");
    },
  };
}
