// ABOUTME: Builds the HTTP app over the real domain: a migrated temp SQLite file, AgentManager, ConversationService,
// ABOUTME: approvals (recorded through the turn pipeline) and the question router.
// Tests use `inject` for plain routes and `listen` for SSE; `close` tears everything down in order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { AgentManager } from "../../../src/agent/agent-manager.js";
import { createApprovalService, type ApprovalService } from "../../../src/conversation/approval-service.js";
import { ConversationService } from "../../../src/conversation/conversation-service.js";
import { createQuestionRouter, type QuestionRouter } from "../../../src/conversation/question-router.js";
import { EventHub } from "../../../src/conversation/event-hub.js";
import { buildHttpApp, type HttpDeps } from "../../../src/http/http-app.js";
import { anonymousHttpAuthenticator } from "../../../src/http/http-auth.js";
import { systemClock, type Clock } from "../../../src/lib/clock.js";
import { randomIds } from "../../../src/lib/ids.js";
import { createMemoryLogger } from "../../../src/lib/logger.js";
import { createAuditRepository, type AuditEntry } from "../../../src/store/audit-repository.js";
import { openDatabase, type StoreDatabase } from "../../../src/store/database.js";
import { createIdempotencyRepository } from "../../../src/store/idempotency-repository.js";
import { createLedgerRepository, type LedgerRepository } from "../../../src/store/ledger-repository.js";
import { createThreadRepository, type ThreadRepository } from "../../../src/store/thread-repository.js";
import { createUsageRepository, type UsageRepository } from "../../../src/store/usage-repository.js";
import { FakeAgent, type FakeAgentOptions } from "./fake-agent-io.js";

export interface HarnessOptions {
  clock?: Clock;
  limits?: Partial<HttpDeps["limits"]>;
  /**
   * Overrides of the app deps (auth, lifecycle, bindings, idempotency: null to leave the early lookup out). The
   * harness passes its database as `db`, so bindings, the store-backed binding lookup and thread routes are on.
   */
  deps?: Partial<Omit<HttpDeps, "idempotency">> & { idempotency?: HttpDeps["idempotency"] | null };
}

export interface HttpHarness {
  app: FastifyInstance;
  store: StoreDatabase;
  agents: AgentManager;
  conversations: ConversationService;
  hub: EventHub;
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

/** Opens a fresh database and builds the domain and the app (not listening). */
export async function createHttpHarness(options: HarnessOptions = {}): Promise<HttpHarness> {
  const dir = mkdtempSync(join(tmpdir(), "coven-http-"));
  const log = createMemoryLogger();
  const clock = options.clock ?? systemClock;
  const store = await openDatabase({ path: join(dir, "gateway.db"), log });
  const hub = new EventHub();
  const agents = new AgentManager({
    serverId: "coven-gateway-test",
    mcpEndpoint: () => "http://127.0.0.1:0/mcp",
    heartbeatTimeoutMs: 60_000,
    limits: { requestQueueHigh: 256, requestQueueLow: 64, cancelGraceMs: 10_000, injectionTimeoutMs: 10_000 },
    log,
  });
  const approvals = createApprovalService({ db: store.db, agents, hub, clock, ids: randomIds, log });
  const questions = createQuestionRouter({ db: store.db, hub, clock, ids: randomIds, log });
  const ledger = createLedgerRepository(store.db, clock, randomIds);
  const usage = createUsageRepository(store.db);
  const threads = createThreadRepository(store.db);
  const conversations = new ConversationService({
    db: store.db,
    ledger,
    usage,
    agents,
    hub,
    clock,
    ids: randomIds,
    log,
    approvals,
  });
  const { idempotency, ...overrides } = options.deps ?? {};
  const app = buildHttpApp({
    agents,
    conversations,
    ledger,
    usage,
    log,
    clock,
    limits: { ...TEST_LIMITS, ...options.limits },
    auth: anonymousHttpAuthenticator,
    lifecycle: { isShuttingDown: () => false },
    idempotency: idempotency === null ? undefined : (idempotency ?? createIdempotencyRepository(store.db)),
    db: store.db,
    approvals,
    questions,
    ...overrides,
  });
  await app.ready();
  return {
    app,
    store,
    agents,
    conversations,
    hub,
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
    async close() {
      try {
        approvals.stop();
        await questions.shutdown();
        await agents.shutdown(0);
        await conversations.drain();
        await app.close();
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
