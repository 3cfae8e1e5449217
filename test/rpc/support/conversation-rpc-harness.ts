// ABOUTME: The gateway's domain (createDomain on a temp SQLite file) plus its gRPC edge (buildGatewayGrpc) on loopback
// ABOUTME: port 0, for the conversation and binding RPCs; no HTTP or MCP edge.
import { randomUUID } from "node:crypto";
import type { AgentManager } from "../../../src/agent/agent-manager.js";
import { createJwtService } from "../../../src/auth/jwt.js";
import type { ApprovalService } from "../../../src/conversation/approval-service.js";
import type { ConversationService } from "../../../src/conversation/conversation-service.js";
import type { EventHub } from "../../../src/conversation/event-hub.js";
import type { QuestionRouter } from "../../../src/conversation/question-router.js";
import { buildGatewayGrpc } from "../../../src/gateway/grpc-wiring.js";
import type { GatewayIdentity } from "../../../src/gateway/identity-wiring.js";
import { isoTimestamp, systemClock } from "../../../src/lib/clock.js";
import { randomIds } from "../../../src/lib/ids.js";
import { silentLogger, type Logger } from "../../../src/lib/logger.js";
import type { ClientConversationHandlers } from "../../../src/rpc/client-conversation-handlers.js";
import type { StoreDatabase } from "../../../src/store/database.js";
import type { LedgerRepository } from "../../../src/store/ledger-repository.js";
import { createPrincipalRepository, type PrincipalType } from "../../../src/store/principal-repository.js";
import { createRoleRepository, type RoleName } from "../../../src/store/role-repository.js";
import { startTestDomain } from "../../support/test-domain.js";

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
  /** The shutdown order of the composition root: agents, turns, StreamEvents, decisions, gRPC, presence, database. */
  stop(): Promise<void>;
}

/** Builds and starts the domain and the gRPC edge; `stop()` closes everything it opened. */
export async function startConversationRpc(options: ConversationRpcOptions = {}): Promise<ConversationRpcHarness> {
  const clock = systemClock;
  const ids = randomIds;
  const log = options.log ?? silentLogger;
  const isAuthEnabled = options.isAuthEnabled ?? false;
  const { domain, store, config, dir, stop } = await startTestDomain({
    dir: options.dir,
    clock,
    ids,
    log,
    mutate: (base) => ({
      ...base,
      auth: { ...base.auth, jwtSecret: isAuthEnabled ? HARNESS_JWT_SECRET : "", lockout: { ...base.auth.lockout, maxFailures: 0 } },
      limits: {
        ...base.limits,
        shutdownTimeoutMs: 200,
        ...(options.stream?.maxQueue !== undefined ? { subscriberQueue: options.stream.maxQueue } : {}),
        ...(options.approvalTimeoutMs !== undefined ? { toolApprovalTimeoutMs: options.approvalTimeoutMs } : {}),
      },
    }),
  });
  const db = store.db;
  const grpc = buildGatewayGrpc({ domain, config, log, streamIdleTimeoutMs: options.stream?.idleTimeoutMs });
  let port: number;
  try {
    ({ port } = await grpc.server.listen("127.0.0.1:0"));
  } catch (err) {
    await stop({ closeEdges: () => grpc.server.stop(0) });
    throw err;
  }
  const jwt = isAuthEnabled ? createJwtService({ secret: HARNESS_JWT_SECRET }) : undefined;

  let stopping: Promise<void> | undefined;
  async function stopInOrder(): Promise<void> {
    // The gateway's order: agents end their turns (terminal rows reach the subscribers), then the streams end
    // UNAVAILABLE, decisions end, the gRPC server stops, presence flushes, the database closes.
    await stop({ endStreams: () => grpc.endStreams(), closeEdges: () => grpc.server.stop(1_000) });
  }

  return {
    addr: `127.0.0.1:${port}`,
    dir,
    store,
    ledger: domain.ledger,
    agents: domain.agents,
    hub: domain.hub,
    conversations: domain.conversations,
    approvals: domain.approvals,
    questions: domain.questions,
    identity: domain.identity,
    streams: grpc.streams,
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
