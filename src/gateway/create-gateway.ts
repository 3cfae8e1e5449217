// ABOUTME: The one composition root: builds the store, the domain and the edges from a frozen config.
// ABOUTME: `start` opens, migrates, recovers and listens; `stop` runs the ordered shutdown, slow steps time-boxed.
import type { FastifyInstance } from "fastify";
import { AgentManager } from "../agent/agent-manager.js";
import type { GatewayConfig } from "../config/types.js";
import { mcpEndpoint as deriveMcpEndpoint, parseHostPort } from "../config/derived.js";
import { createApprovalService, type ApprovalService } from "../conversation/approval-service.js";
import { ConversationService } from "../conversation/conversation-service.js";
import { createQuestionRouter, type QuestionRouter } from "../conversation/question-router.js";
import { EventHub } from "../conversation/event-hub.js";
import { recoverInterruptedTurns } from "../conversation/turn-recovery.js";
import { buildHttpApp } from "../http/http-app.js";
import { anonymousHttpAuthenticator, type HttpAuthenticator } from "../http/http-auth.js";
import { createJwtHttpAuthenticator } from "../http/jwt-http-authenticator.js";
import { PrincipalStreams } from "../http/principal-streams.js";
import { createLinkService } from "../auth/link-service.js";
import { systemClock, isoTimestamp, type Clock } from "../lib/clock.js";
import { newServerId, randomIds, type IdSource } from "../lib/ids.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import { adminBindingHandlers } from "../rpc/admin-binding-handlers.js";
import { createAdminService } from "../rpc/admin-service.js";
import { createClientConversationHandlers, type ClientConversationHandlers } from "../rpc/client-conversation-handlers.js";
import { createClientService } from "../rpc/client-service.js";
import { createGatewayV1Service } from "../rpc/gateway-v1-service.js";
import { createCovenControlService } from "../rpc/coven-control-service.js";
import { createGrpcServer, type GrpcServerHandle } from "../rpc/grpc-server.js";
import type { RpcAuthenticator } from "../rpc/rpc-auth.js";
import { createRpcIdentityAuthenticator } from "../rpc/rpc-authenticator.js";
import { isMemoryDatabase, openDatabase, type StoreDatabase } from "../store/database.js";
import { acquireDatabaseLock, type DatabaseLock } from "../store/database-lock.js";
import { createIdempotencyRepository } from "../store/idempotency-repository.js";
import { createLedgerRepository } from "../store/ledger-repository.js";
import { createThreadRepository } from "../store/thread-repository.js";
import { createUsageRepository } from "../store/usage-repository.js";
import { startIdentity, type GatewayIdentity } from "./identity-wiring.js";
import { mountMcp, type GatewayMcp } from "./mcp-wiring.js";
import { createPacks, type GatewayPacks } from "./packs-wiring.js";

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
  stop(): Promise<void>;
  readonly agents: AgentManager;
  readonly conversations: ConversationService;
  readonly hub: EventHub;
  readonly store: StoreDatabase;
  /** Resolver, lockout, identity service, presence: what the authenticating edges need. */
  readonly identity: GatewayIdentity;
}

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
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

  let store: StoreDatabase | undefined;
  let identity: GatewayIdentity | undefined;
  let agents: AgentManager | undefined;
  let packs: GatewayPacks | undefined;
  let mcp: GatewayMcp | undefined;
  let conversations: ConversationService | undefined;
  let approvals: ApprovalService | undefined;
  let questions: QuestionRouter | undefined;
  let conversationRpc: ClientConversationHandlers | undefined;
  const hub = new EventHub({ log });
  let http: FastifyInstance | undefined;
  let grpc: GrpcServerHandle | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let shuttingDown = false;
  let stopping: Promise<void> | undefined;
  let dbLock: DatabaseLock | undefined;

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`gateway not started: ${what} unavailable`);
    return value;
  };

  async function start(): Promise<GatewayAddresses> {
    // One gateway per database file: a second one is refused with the holder's pid instead of sharing it unnoticed.
    if (!isMemoryDatabase(config.database.path)) dbLock = acquireDatabaseLock(config.database.path);
    store = await openDatabase({ path: config.database.path, log });
    const db = store.db;
    identity = await startIdentity({ config, db, clock, ids, log });
    packs = createPacks({ db, clock, ids, log });
    agents = new AgentManager({
      serverId: newServerId(),
      mcpEndpoint: () => deriveMcpEndpoint(config, boundHttpPort, env),
      heartbeatTimeoutMs: config.agents.heartbeatTimeoutMs,
      limits: config.limits,
      log,
      now: () => clock.now(),
      presence: identity.presence,
      directory: identity.directory,
      tools: packs.catalog,
      packTools: packs.agentTools,
    });
    approvals = createApprovalService({ db, agents, hub, clock, ids, log, timeoutMs: config.limits.toolApprovalTimeoutMs });
    questions = createQuestionRouter({ db, hub, clock, ids, log });
    // store.md §9: decisions left pending by a previous run cannot be answered any more.
    await approvals.cancelAllPending();
    await questions.cancelAllPending();
    approvals.start();
    questions.start();
    const ledger = createLedgerRepository(db, clock, ids);
    // Turns of a previous run that died mid-turn get their terminal row before any new turn can start.
    await recoverInterruptedTurns({ ledger, log });
    const usage = createUsageRepository(db);
    const threads = createThreadRepository(db);
    conversations = new ConversationService({ db, ledger, usage, agents, hub, clock, ids, log, approvals });
    conversationRpc = createClientConversationHandlers({
      conversations,
      agents,
      ledger,
      hub,
      approvals,
      questions,
      log,
      stream: { maxQueue: config.limits.subscriberQueue },
    });
    const liveAgents = agents;
    const liveStreams = conversationRpc;
    const livePacks = packs;
    const httpSendStreams = new PrincipalStreams();
    const links = createLinkService({ db, jwt: identity.jwt, clock, ids, log });
    identity.service.onPrincipalRemoved(({ principalId, reason }) => {
      const end =
        reason === "revoked"
          ? ({ code: "PERMISSION_DENIED", message: "principal has been revoked" } as const)
          : ({ code: "UNAUTHENTICATED", message: "principal not found" } as const);
      liveAgents.closePrincipal(principalId, end);
      livePacks.closePrincipal(principalId, end);
      liveStreams.closePrincipal(principalId, end);
      httpSendStreams.closePrincipal(principalId, reason);
    });
    http = buildHttpApp({
      agents,
      conversations,
      ledger,
      usage,
      log,
      clock,
      ids,
      db,
      threads,
      idempotency: createIdempotencyRepository(db),
      approvals,
      questions,
      trustProxy: config.server.trustProxy,
      limits: config.limits,
      auth:
        overrides.httpAuth ??
        (identity.isAuthEnabled
          ? createJwtHttpAuthenticator({ resolver: identity.resolver, lockout: identity.lockout, log })
          : anonymousHttpAuthenticator),
      principalStreams: httpSendStreams,
      links,
      lockout: identity.isAuthEnabled ? identity.lockout : undefined,
      lifecycle: { isShuttingDown: () => shuttingDown },
    });
    mcp = await mountMcp({ app: http, packs, agents, resolver: identity.resolver, isAuthEnabled: identity.isAuthEnabled, log });
    const rpcAuth =
      overrides.rpcAuth ??
      createRpcIdentityAuthenticator({ resolver: identity.resolver, ssh: identity.ssh, lockout: identity.lockout, log });
    grpc = createGrpcServer({
      log,
      maxMessageBytes: config.limits.grpcMaxMessageBytes,
      services: [
        createCovenControlService({ agents, auth: rpcAuth, log, maxMessageBytes: config.limits.grpcMaxMessageBytes }),
        createAdminService({ auth: rpcAuth, log, identity: identity.service, handlers: [adminBindingHandlers({ db, clock, ids, log })] }),
        createClientService({ auth: rpcAuth, log, identity: identity.service, handlers: [conversationRpc.handlers] }),
        createGatewayV1Service({ agents, conversations, auth: rpcAuth, log }),
        packs.service(rpcAuth),
      ],
    });

    const grpcTarget = parseHostPort(config.server.grpcAddr);
    let grpcPort: number;
    try {
      ({ port: grpcPort } = await grpc.listen(config.server.grpcAddr));
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

    sweepTimer = setInterval(() => {
      createIdempotencyRepository(db)
        .sweepExpired(isoTimestamp(clock.now()))
        .catch((cause: unknown) => log.error("idempotency sweep failed", { cause }));
      links.scrubExpiredTokens().catch((cause: unknown) => log.error("link token scrub failed", { cause }));
    }, SWEEP_INTERVAL_MS);
    sweepTimer.unref();

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

  async function stopInOrder(): Promise<void> {
    shuttingDown = true;
    const errors: unknown[] = [];
    const step = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
        log.error(`shutdown step failed: ${name}`, { cause: err });
      }
    };
    if (sweepTimer) clearInterval(sweepTimer);
    // Agents get `shutdown`, pending requests get the grace period, then a terminal `gateway shutting down`;
    // that terminal event is what ends every open SSE send stream.
    await step("agents", async () => agents?.shutdown(config.limits.shutdownTimeoutMs));
    await step("turns", async () => {
      if (conversations) await withDeadline(conversations.drain(), EDGE_CLOSE_MS);
    });
    await step("stream events", async () => {
      conversationRpc?.shutdown();
    });
    await step("approvals and questions", async () => {
      approvals?.stop();
      await questions?.shutdown();
    });
    await step("http", async () => {
      if (!http) return;
      const closing = http.close();
      const closed = await withDeadline(closing, EDGE_CLOSE_MS);
      if (!closed) {
        http.server.closeAllConnections();
        await closing;
      }
    });
    await step("packs", async () => packs?.close());
    await step("grpc", async () => grpc?.stop(EDGE_CLOSE_MS));
    await step("mcp", async () => mcp?.close());
    await step("presence", async () => identity?.presence.flush());
    await step("database", async () => store?.close());
    await step("database lock", async () => dbLock?.release());
    if (errors.length > 0) log.warn("shutdown finished with errors", { count: errors.length });
  }

  return {
    start,
    stop(): Promise<void> {
      stopping ??= stopInOrder();
      return stopping;
    },
    get agents() {
      return need(agents, "agents");
    },
    get conversations() {
      return need(conversations, "conversations");
    },
    hub,
    get store() {
      return need(store, "store");
    },
    get identity() {
      return need(identity, "identity");
    },
  };
}

/** Resolves true when `promise` settles within `ms`, false otherwise (the promise keeps running). */
async function withDeadline(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
