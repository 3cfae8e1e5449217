// ABOUTME: Builds the HTTP app over the gateway's real domain (createDomain on a migrated temp SQLite file),
// ABOUTME: with every dependency the gateway gives it; tests override single deps (auth, lifecycle, bindings...).
// Tests use `inject` for plain routes and `listen` for SSE; `close` tears everything down in order.
import type { FastifyInstance } from "fastify";
import type { AgentManager } from "../../../src/agent/agent-manager.js";
import type { ApprovalService } from "../../../src/conversation/approval-service.js";
import type { ConversationService } from "../../../src/conversation/conversation-service.js";
import type { QuestionRouter } from "../../../src/conversation/question-router.js";
import type { EventHub } from "../../../src/conversation/event-hub.js";
import type { GatewayDomain } from "../../../src/gateway/create-domain.js";
import { createAddressRateLimiter } from "../../../src/http/address-rate-limiter.js";
import { createBindingLookup } from "../../../src/conversation/binding-lookup.js";
import { buildHttpApp, type HttpDeps } from "../../../src/http/http-app.js";
import { anonymousHttpAuthenticator } from "../../../src/http/http-auth.js";
import { PrincipalStreams } from "../../../src/http/principal-streams.js";
import { SseRegistry } from "../../../src/http/sse-channel.js";
import { systemClock, type Clock } from "../../../src/lib/clock.js";
import { randomIds } from "../../../src/lib/ids.js";
import { createMemoryLogger } from "../../../src/lib/logger.js";
import { createAuditRepository, type AuditEntry } from "../../../src/store/audit-repository.js";
import { createBindingRepository } from "../../../src/store/binding-repository.js";
import type { StoreDatabase } from "../../../src/store/database.js";
import type { LedgerRepository } from "../../../src/store/ledger-repository.js";
import type { ThreadRepository } from "../../../src/store/thread-repository.js";
import type { UsageRepository } from "../../../src/store/usage-repository.js";
import { startTestDomain } from "../../support/test-domain.js";
import { FakeAgent, type FakeAgentOptions } from "./fake-agent-io.js";

export interface HarnessOptions {
  clock?: Clock;
  limits?: Partial<HttpDeps["limits"]>;
  /** Overrides of the app deps (auth, lifecycle, bindings, idempotency, ...); the rest come from the domain. */
  deps?: Partial<HttpDeps>;
}

export interface HttpHarness {
  app: FastifyInstance;
  store: StoreDatabase;
  agents: AgentManager;
  conversations: ConversationService;
  hub: EventHub;
  domain: GatewayDomain;
  ledger: LedgerRepository;
  usage: UsageRepository;
  threads: ThreadRepository;
  approvals: ApprovalService;
  questions: QuestionRouter;
  log: ReturnType<typeof createMemoryLogger>;
  /** Audit entries of one action, newest first. */
  audit(action: "approve_tool" | "answer_question"): Promise<AuditEntry[]>;
  connectAgent(options: FakeAgentOptions): Promise<FakeAgent>;
  /** Starts a real listener on 127.0.0.1:0 and returns its base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export const TEST_LIMITS: HttpDeps["limits"] = {
  maxBodyBytes: 1024 * 1024,
  sseHeartbeatIntervalMs: 15_000,
  sseWriteStallTimeoutMs: 30_000,
};

/** Opens a fresh database, creates the domain and builds the app over it (not listening). */
export async function createHttpHarness(options: HarnessOptions = {}): Promise<HttpHarness> {
  const log = createMemoryLogger();
  const clock = options.clock ?? systemClock;
  // No grace on close: a test's unanswered requests end at once instead of holding teardown for a second.
  const { domain, store, stop } = await startTestDomain({ clock, log, heartbeatTimeoutMs: 60_000, limits: { shutdownTimeoutMs: 0 } });
  const { agents, conversations, hub, ledger, usage, threads, approvals, questions } = domain;
  const app = buildHttpApp({
    agents,
    conversations,
    ledger,
    usage,
    threads,
    bindingService: domain.bindings,
    bindings: createBindingLookup({ agents, bindings: createBindingRepository(store.db) }),
    idempotency: domain.idempotency,
    approvals,
    questions,
    links: domain.links,
    pairing: domain.pairing,
    linkRateLimiter: createAddressRateLimiter({ clock }),
    lockout: undefined,
    principalStreams: new PrincipalStreams(),
    sseRegistry: new SseRegistry(),
    log,
    clock,
    ids: randomIds,
    limits: { ...TEST_LIMITS, ...options.limits },
    auth: anonymousHttpAuthenticator,
    lifecycle: { isShuttingDown: () => false },
    trustProxy: false,
    ops: domain.ops.http,
    ...options.deps,
  });
  await app.ready();
  return {
    app,
    store,
    agents,
    conversations,
    hub,
    domain,
    ledger,
    usage,
    threads,
    approvals,
    questions,
    log,
    audit: (action) => createAuditRepository(store.db).list({ action, limit: 100 }),
    connectAgent: (agent) => FakeAgent.connect(agents, agent),
    async listen() {
      await app.listen({ port: 0, host: "127.0.0.1" });
      const address = app.server.address();
      if (address === null || typeof address === "string") throw new Error("no TCP address");
      return `http://127.0.0.1:${address.port}`;
    },
    close: () => stop({ closeEdges: () => app.close() }),
  };
}
