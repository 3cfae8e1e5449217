// ABOUTME: Builds the gateway's domain over an opened, migrated store: identity, packs, agents, hub, turns, decisions.
// ABOUTME: `start` runs the startup steps of store.md §9 and the sweeps; `stop` owns the domain's shutdown order.
import { AgentManager } from "../agent/agent-manager.js";
import type { StreamEnd } from "../agent/agent-frames.js";
import { createLinkService, type LinkService } from "../auth/link-service.js";
import type { PairingService } from "../auth/pairing-service.js";
import { mcpEndpoint } from "../config/derived.js";
import type { GatewayConfig } from "../config/types.js";
import { createBindingService, type BindingService } from "../conversation/binding-service.js";
import { createApprovalService, type ApprovalService } from "../conversation/approval-service.js";
import { ConversationService } from "../conversation/conversation-service.js";
import { EventHub } from "../conversation/event-hub.js";
import { createQuestionRouter, type QuestionRouter } from "../conversation/question-router.js";
import { recoverInterruptedTurns } from "../conversation/turn-recovery.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { newServerId, type IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { createIdempotencyRepository, type IdempotencyRepository } from "../store/idempotency-repository.js";
import { createLedgerRepository, type LedgerRepository } from "../store/ledger-repository.js";
import type { Database } from "../store/schema.js";
import { createThreadRepository, type ThreadRepository } from "../store/thread-repository.js";
import { createUsageRepository, type UsageRepository } from "../store/usage-repository.js";
import type { WriteBatcher } from "../store/write-batcher.js";
import type { Kysely } from "kysely";
import { createIdentity, prepareIdentity, type GatewayIdentity } from "./identity-wiring.js";
import { registerBuiltinPacks } from "../packs/builtin/builtin-packs.js";
import { createOps, type GatewayOps } from "./ops-wiring.js";
import { createPacks, type GatewayPacks } from "./packs-wiring.js";
import { createPairing } from "./pairing-wiring.js";

export interface DomainOptions {
  config: GatewayConfig;
  /** An opened store whose migrations have run. */
  db: Kysely<Database>;
  /** That store's group commit of the turn hot path (`StoreDatabase.writes`). */
  writes: WriteBatcher;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** Environment for the MCP endpoint told to agents (COVEN_MCP_ENDPOINT, COVEN_GATEWAY_URL). */
  env: NodeJS.ProcessEnv;
  /** The bound HTTP port once listening (for an `:0` http_addr in the MCP endpoint); 0 before. */
  httpPort?: () => number;
  /** The bound gRPC port once listening (the QR pairing deep link); 0 before. */
  grpcPort?: () => number;
  /** The Welcome's `server_id`; `coven-gateway-<random>` by default. */
  serverId?: string;
  /** The database file, for `coven_db_size_bytes`; `:memory:` (page count × page size) by default. */
  dbPath?: string;
}

/** Where the edges plug into the domain's shutdown order; each runs even when an earlier step failed. */
export interface DomainShutdownHooks {
  /** After agents left and turns drained: end the edges' live event streams. */
  endStreams?: () => void | Promise<void>;
  /** After approvals and questions ended: close the listeners. */
  closeEdges?: () => Promise<void>;
}

/** The domain objects every edge is built from. One instance per gateway (and per test harness). */
export interface GatewayDomain {
  readonly db: Kysely<Database>;
  readonly identity: GatewayIdentity;
  readonly packs: GatewayPacks;
  readonly agents: AgentManager;
  readonly hub: EventHub;
  readonly approvals: ApprovalService;
  readonly questions: QuestionRouter;
  readonly conversations: ConversationService;
  readonly links: LinkService;
  /** Channel bindings: the rules, texts and audit rows every edge that changes them shares. */
  readonly bindings: BindingService;
  /** QR device pairing: the web admin mints, `POST /api/link/pair` enrolls. */
  readonly pairing: PairingService;
  readonly ledger: LedgerRepository;
  readonly usage: UsageRepository;
  readonly threads: ThreadRepository;
  readonly idempotency: IdempotencyRepository;
  /** Metrics, rate limits, guard, costs, budgets and maintenance (ops.md), shared by every edge. */
  readonly ops: GatewayOps;
  /**
   * Startup, before any edge takes traffic: identity store steps, decisions left pending by a previous run
   * cancelled, interrupted turns ended, sweeps started. Store failures propagate.
   */
  start(): Promise<void>;
  /**
   * Ordered shutdown: agents get `Shutdown` and the grace period, turns drain, `hooks.endStreams`, approvals and
   * questions end, external packs close, `hooks.closeEdges`, presence flushes. Safe to call more than once; resolves with the errors
   * the steps collected (each already logged), never rejects.
   */
  stop(hooks?: DomainShutdownHooks): Promise<unknown[]>;
}

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
const TURN_DRAIN_MS = 2_000;

/** How a removed principal's live streams end, on every transport that carries a gRPC status. */
export function principalRemovedEnd(reason: "revoked" | "deleted"): StreamEnd {
  return reason === "revoked"
    ? { code: "PERMISSION_DENIED", message: "principal has been revoked", closeReason: "revoked" }
    : { code: "UNAUTHENTICATED", message: "principal not found", closeReason: "revoked" };
}

/** Builds the domain; nothing touches the store until `start`. Throws GatewayError INVALID_ARGUMENT for a short JWT secret. */
export function createDomain(options: DomainOptions): GatewayDomain {
  const { config, db, writes, clock, ids, log, env } = options;
  const httpPort = options.httpPort ?? (() => 0);
  const grpcPort = options.grpcPort ?? (() => 0);
  const identity = createIdentity({ config, db, clock, ids, log });
  const ops = createOps({ config, db, dbPath: options.dbPath ?? ":memory:", clock, log });
  const packs = createPacks({ log, metrics: ops.metrics, guard: (call) => ops.packToolGuard(call) });
  const hub = new EventHub({ log });
  const agents = new AgentManager({
    serverId: options.serverId ?? newServerId(),
    mcpEndpoint: () => mcpEndpoint(config, httpPort(), env),
    heartbeatTimeoutMs: config.agents.heartbeatTimeoutMs,
    limits: config.limits,
    log,
    now: () => clock.now(),
    presence: identity.presence,
    directory: identity.directory,
    tools: packs.catalog,
    packTools: packs.agentTools,
    streamObserver: ops.streams,
    maxDepartedAgents: config.limits.maxDepartedAgents,
  });
  const approvals = createApprovalService({
    db,
    agents,
    hub,
    clock,
    ids,
    log,
    timeoutMs: config.limits.toolApprovalTimeoutMs,
    guard: ops.approvalGuard,
  });
  const questions = createQuestionRouter({ db, hub, clock, ids, log });
  const ledger = createLedgerRepository(db, clock, ids, writes);
  const usage = createUsageRepository(db, writes);
  const conversations = new ConversationService({ db, writes, ledger: ops.meterLedger(ledger), usage, agents, hub, clock, ids, log, approvals, observer: ops.turns });
  registerBuiltinPacks(packs.registry, {
    db,
    clock,
    ids,
    agents,
    conversations,
    questions,
    ledger,
    usage,
    admission: { maintenance: () => ops.maintenance.check(), budget: (input) => ops.budgets.check(input) },
  });
  const links = createLinkService({ db, jwt: identity.jwt, clock, ids, log });
  const ports = () => ({ http: httpPort(), grpc: grpcPort() });
  const lockout = identity.isAuthEnabled ? identity.lockout : undefined;
  const pairing = createPairing({ config, env, db, ports, lockout, clock, ids, log });
  const idempotency = createIdempotencyRepository(db);
  identity.service.onPrincipalRemoved(({ principalId, reason }) => {
    agents.closePrincipal(principalId, principalRemovedEnd(reason));
    packs.closePrincipal(principalId, principalRemovedEnd(reason));
  });

  let sweepTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<unknown[]> | undefined;

  async function start(): Promise<void> {
    await prepareIdentity({ identity, db, clock, log });
    await ops.start({ agents, hub, approvals });
    // store.md §9: decisions left pending by a previous run cannot be answered any more.
    await approvals.cancelAllPending();
    await questions.cancelAllPending();
    approvals.start();
    questions.start();
    // Turns of a previous run that died mid-turn get their terminal row before any new turn can start.
    await recoverInterruptedTurns({ ledger, log });
    sweepTimer = setInterval(() => {
      idempotency
        .sweepExpired(isoTimestamp(clock.now()))
        .catch((cause: unknown) => log.error("idempotency sweep failed", { cause }));
      links.scrubExpiredTokens().catch((cause: unknown) => log.error("link token scrub failed", { cause }));
    }, SWEEP_INTERVAL_MS);
    sweepTimer.unref();
  }

  async function stopInOrder(hooks: DomainShutdownHooks): Promise<unknown[]> {
    const errors: unknown[] = [];
    const step = async (name: string, fn: () => void | Promise<void>) => {
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
    await step("agents", () => agents.shutdown(config.limits.shutdownTimeoutMs));
    await step("turns", async () => {
      await withDeadline(conversations.drain(), TURN_DRAIN_MS);
    });
    await step("stream events", () => hooks.endStreams?.());
    await step("approvals and questions", async () => {
      approvals.stop();
      await questions.shutdown();
    });
    // Pending external calls fail `pack disconnected`, then Register streams end UNAVAILABLE, before gRPC stops.
    await step("packs", () => packs.close());
    if (hooks.closeEdges) await step("edges", hooks.closeEdges);
    await step("presence", () => identity.presence.flush());
    await step("ops", () => ops.close());
    return errors;
  }

  return {
    db,
    identity,
    packs,
    agents,
    hub,
    approvals,
    questions,
    conversations,
    links,
    bindings: createBindingService({ db, agents, clock, ids }),
    pairing,
    ledger,
    usage,
    threads: createThreadRepository(db),
    idempotency,
    ops,
    start,
    stop(hooks = {}) {
      stopping ??= stopInOrder(hooks);
      return stopping;
    },
  };
}

/** Resolves true when `promise` settles within `ms`, false otherwise (the promise keeps running). */
export async function withDeadline(promise: Promise<unknown>, ms: number): Promise<boolean> {
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
