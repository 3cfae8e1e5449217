// ABOUTME: A test-only composition of the gRPC edge for the conversation RPCs: real SQLite file, identity, agents,
// ABOUTME: turn pipeline, approvals, questions and hub, served on loopback port 0 the way the composition root wires it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { AgentManager } from "../../../src/agent/agent-manager.js";
import { createJwtService } from "../../../src/auth/jwt.js";
import { defaultConfig } from "../../../src/config/load-config.js";
import type { GatewayConfig } from "../../../src/config/types.js";
import { createApprovalService, type ApprovalService } from "../../../src/conversation/approval-service.js";
import { ConversationService } from "../../../src/conversation/conversation-service.js";
import { EventHub } from "../../../src/conversation/event-hub.js";
import { createQuestionRouter, type QuestionRouter } from "../../../src/conversation/question-router.js";
import { startIdentity, type GatewayIdentity } from "../../../src/gateway/identity-wiring.js";
import { isoTimestamp, systemClock } from "../../../src/lib/clock.js";
import { newServerId, randomIds } from "../../../src/lib/ids.js";
import { silentLogger, type Logger } from "../../../src/lib/logger.js";
import { adminBindingHandlers } from "../../../src/rpc/admin-binding-handlers.js";
import { createAdminService } from "../../../src/rpc/admin-service.js";
import { createClientConversationHandlers, type ClientConversationHandlers } from "../../../src/rpc/client-conversation-handlers.js";
import { createClientService } from "../../../src/rpc/client-service.js";
import { createCovenControlService } from "../../../src/rpc/coven-control-service.js";
import { createGrpcServer, type GrpcServerHandle } from "../../../src/rpc/grpc-server.js";
import { createRpcIdentityAuthenticator } from "../../../src/rpc/rpc-authenticator.js";
import { openDatabase, type StoreDatabase } from "../../../src/store/database.js";
import { createLedgerRepository, type LedgerRepository } from "../../../src/store/ledger-repository.js";
import { createPrincipalRepository, type PrincipalType } from "../../../src/store/principal-repository.js";
import { createRoleRepository, type RoleName } from "../../../src/store/role-repository.js";
import { createUsageRepository } from "../../../src/store/usage-repository.js";

/** 44 characters, like the secrets `bootstrap` writes. */
export const HARNESS_JWT_SECRET = "Y29udmVyc2F0aW9uLXJwYy1oYXJuZXNzLXNlY3JldCEhIQ==";

export interface ConversationRpcOptions {
  /** Reuse a directory (and its gateway.db); it is then not removed on stop. */
  dir?: string;
  /** Auth on (bearer tokens signed with HARNESS_JWT_SECRET); default off (every call is `anonymous`). */
  isAuthEnabled?: boolean;
  /** StreamEvents engine bounds (a small queue to provoke slow consumers). */
  stream?: { maxQueue?: number; idleTimeoutMs?: number };
  approvalTimeoutMs?: number;
  log?: Logger;
}

export interface ConversationRpcHarness {
  addr: string;
  dir: string;
  store: StoreDatabase;
  ledger: LedgerRepository;
  agents: AgentManager;
  hub: EventHub;
  conversations: ConversationService;
  approvals: ApprovalService;
  questions: QuestionRouter;
  identity: GatewayIdentity;
  streams: ClientConversationHandlers;
  /** Inserts a principal (default: approved client) with roles; returns its id. */
  seedPrincipal(seed?: { type?: PrincipalType; roles?: RoleName[]; id?: string }): Promise<string>;
  /** A bearer token for the principal (auth-on harnesses only). */
  tokenFor(principalId: string): Promise<string>;
  /** The shutdown order of the composition root: agents, turns, StreamEvents, gRPC, questions, database. */
  stop(): Promise<void>;
}

function harnessConfig(dir: string, isAuthEnabled: boolean): GatewayConfig {
  const base = defaultConfig({ HOME: dir, XDG_DATA_HOME: join(dir, "data") }, dir);
  return {
    ...base,
    database: { path: join(dir, "gateway.db") },
    auth: { ...base.auth, jwtSecret: isAuthEnabled ? HARNESS_JWT_SECRET : "", lockout: { ...base.auth.lockout, maxFailures: 0 } },
  };
}

/** Builds and starts the composition; `stop()` closes everything it opened. */
export async function startConversationRpc(options: ConversationRpcOptions = {}): Promise<ConversationRpcHarness> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "coven-conv-rpc-"));
  const log = options.log ?? silentLogger;
  const clock = systemClock;
  const ids = randomIds;
  const config = harnessConfig(dir, options.isAuthEnabled ?? false);
  const store = await openDatabase({ path: config.database.path, log });
  const db = store.db;
  const identity = await startIdentity({ config, db, clock, ids, log });
  const agents = new AgentManager({
    serverId: newServerId(),
    mcpEndpoint: () => "http://127.0.0.1:1/mcp",
    heartbeatTimeoutMs: config.agents.heartbeatTimeoutMs,
    limits: config.limits,
    log,
    now: () => clock.now(),
    presence: identity.presence,
    directory: identity.directory,
  });
  const hub = new EventHub();
  const ledger = createLedgerRepository(db, clock, ids);
  const approvals = createApprovalService({ db, agents, hub, clock, ids, log, timeoutMs: options.approvalTimeoutMs });
  const questions = createQuestionRouter({ db, hub, clock, ids, log });
  await approvals.cancelAllPending();
  await questions.cancelAllPending();
  approvals.start();
  questions.start();
  const conversations = new ConversationService({
    db,
    ledger,
    usage: createUsageRepository(db),
    agents,
    hub,
    clock,
    ids,
    log,
    approvals,
  });
  const streams = createClientConversationHandlers({ conversations, agents, ledger, hub, approvals, questions, log, stream: options.stream });
  identity.service.onPrincipalRemoved(({ principalId, reason }) => {
    const end =
      reason === "revoked"
        ? ({ code: "PERMISSION_DENIED", message: "principal has been revoked" } as const)
        : ({ code: "UNAUTHENTICATED", message: "principal not found" } as const);
    agents.closePrincipal(principalId, end);
    streams.closePrincipal(principalId, end);
  });
  const auth = createRpcIdentityAuthenticator({ resolver: identity.resolver, ssh: identity.ssh, lockout: identity.lockout, log });
  const grpc: GrpcServerHandle = createGrpcServer({
    log,
    maxMessageBytes: config.limits.grpcMaxMessageBytes,
    services: [
      createCovenControlService({ agents, auth, log }),
      createAdminService({ auth, log, identity: identity.service, handlers: [adminBindingHandlers({ db, clock, ids, log })] }),
      createClientService({ auth, log, identity: identity.service, handlers: [streams.handlers] }),
    ],
  });
  const { port } = await grpc.listen("127.0.0.1:0");
  const jwt = options.isAuthEnabled ? createJwtService({ secret: HARNESS_JWT_SECRET }) : undefined;

  let stopping: Promise<void> | undefined;
  async function stopInOrder(): Promise<void> {
    // Agents end their turns first (terminal rows reach the subscribers), then the streams end UNAVAILABLE.
    await agents.shutdown(200);
    await conversations.drain();
    streams.shutdown();
    approvals.stop();
    await grpc.stop(1_000);
    await questions.shutdown();
    await identity.presence.flush();
    await store.close();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }

  return {
    addr: `127.0.0.1:${port}`,
    dir,
    store,
    ledger,
    agents,
    hub,
    conversations,
    approvals,
    questions,
    identity,
    streams,
    async seedPrincipal(seed = {}) {
      const id = seed.id ?? randomUUID();
      const now = isoTimestamp(clock.now());
      await createPrincipalRepository(db).insert({ id, type: seed.type ?? "client", displayName: `p-${id.slice(0, 8)}`, status: "approved", now });
      for (const role of seed.roles ?? []) await createRoleRepository(db).grant(id, role, now);
      return id;
    },
    async tokenFor(principalId) {
      if (jwt === undefined) throw new Error("tokenFor needs an auth-on harness");
      return (await jwt.mint(principalId)).token;
    },
    stop() {
      stopping ??= stopInOrder();
      return stopping;
    },
  };
}
