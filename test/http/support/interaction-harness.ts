// ABOUTME: The HTTP app over the real domain with approvals and questions wired in: a migrated temp SQLite file,
// ABOUTME: AgentManager, ApprovalService (recording through the turn pipeline), QuestionRouter and ConversationService.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { AgentManager } from "../../../src/agent/agent-manager.js";
import { createApprovalService, type ApprovalService } from "../../../src/conversation/approval-service.js";
import { ConversationService } from "../../../src/conversation/conversation-service.js";
import { EventHub } from "../../../src/conversation/event-hub.js";
import { createQuestionRouter, type QuestionRouter } from "../../../src/conversation/question-router.js";
import { buildHttpApp, type HttpDeps } from "../../../src/http/http-app.js";
import { anonymousHttpAuthenticator } from "../../../src/http/http-auth.js";
import { systemClock } from "../../../src/lib/clock.js";
import { randomIds } from "../../../src/lib/ids.js";
import { createMemoryLogger } from "../../../src/lib/logger.js";
import { createAuditRepository, type AuditEntry } from "../../../src/store/audit-repository.js";
import { openDatabase, type StoreDatabase } from "../../../src/store/database.js";
import { createLedgerRepository } from "../../../src/store/ledger-repository.js";
import { createUsageRepository } from "../../../src/store/usage-repository.js";
import { FakeAgent, type FakeAgentOptions } from "./fake-agent-io.js";
import { TEST_LIMITS } from "./http-harness.js";

export interface InteractionHarness {
  app: FastifyInstance;
  store: StoreDatabase;
  agents: AgentManager;
  approvals: ApprovalService;
  questions: QuestionRouter;
  connectAgent(options: FakeAgentOptions): Promise<FakeAgent>;
  /** Audit entries of one action, newest first. */
  audit(action: "approve_tool" | "answer_question"): Promise<AuditEntry[]>;
  /** Starts a real listener on 127.0.0.1:0 and returns its base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Opens a fresh database and builds the domain and the app (not listening). */
export async function createInteractionHarness(overrides: Partial<HttpDeps> = {}): Promise<InteractionHarness> {
  const dir = mkdtempSync(join(tmpdir(), "coven-interact-"));
  const log = createMemoryLogger();
  const clock = systemClock;
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
  const app = buildHttpApp({
    agents,
    conversations,
    ledger,
    usage,
    log,
    clock,
    limits: TEST_LIMITS,
    auth: anonymousHttpAuthenticator,
    lifecycle: { isShuttingDown: () => false },
    db: store.db,
    approvals,
    questions,
    ...overrides,
  });
  return {
    app,
    store,
    agents,
    approvals,
    questions,
    connectAgent: (agent) => FakeAgent.connect(agents, agent),
    audit: (action) => createAuditRepository(store.db).list({ action, limit: 100 }),
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
