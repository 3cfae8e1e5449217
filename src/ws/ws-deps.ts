// ABOUTME: What the WebSocket edge needs from the domain (narrow ports, wired in gateway/ws-wiring.ts) and its
// ABOUTME: limits; the edge holds no domain state of its own beyond its connections.
import type { AgentManager } from "../agent/agent-manager.js";
import type { Lockout } from "../auth/lockout.js";
import type { PrincipalResolver } from "../auth/principal-resolver.js";
import type { ApprovalService } from "../conversation/approval-service.js";
import type { BindingLookup } from "../conversation/send-target.js";
import type { ConversationService } from "../conversation/conversation-service.js";
import type { EventHub } from "../conversation/event-hub.js";
import type { QuestionRouter } from "../conversation/question-router.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import type { IdempotencyKey } from "../store/idempotency-repository.js";
import type { LedgerRepository } from "../store/ledger-repository.js";

/** The limits of ws.md §10 (durations in ms) plus the shared subscriber bound and SSE stall timeout. */
export interface WsLimits {
  wsMaxPayloadBytes: number;
  wsMaxBufferedBytes: number;
  wsHelloTimeoutMs: number;
  wsTickIntervalMs: number;
  wsPongTimeoutMs: number;
  wsMaxSubscriptions: number;
  wsMaxConnections: number;
  wsMaxConnectionsPerPrincipal: number;
  sseWriteStallTimeoutMs: number;
  subscriberQueue: number;
}

/** A live web admin session resolved from a `Cookie` header (the web admin edge provides it when present). */
export interface WsAdminSession {
  adminUserId: string;
  username: string;
  sessionId: string;
  /** RFC 3339; the connection closes 4401 `session ended` then. */
  expiresAt: string;
}

export interface WsDeps {
  agents: AgentManager;
  conversations: ConversationService;
  ledger: LedgerRepository;
  hub: EventHub;
  approvals: Pick<ApprovalService, "answer" | "listPending">;
  questions: Pick<QuestionRouter, "answer" | "listPending" | "addRecipient" | "addAllAgentsWatcher">;
  bindings: BindingLookup;
  idempotency: { find(scope: string, key: string, now: string): Promise<IdempotencyKey | undefined> };
  resolver: Pick<PrincipalResolver, "isAuthEnabled" | "resolveAuthorization">;
  lockout?: Pick<Lockout, "check" | "recordFailure" | "recordSuccess"> | undefined;
  /** Resolves the `coven_admin_session` cookie; without it the cookie credential is never accepted. */
  adminSessions?: { resolve(cookieHeader: string): Promise<WsAdminSession | undefined> } | undefined;
  /** The origin of the public base URL (config.md §5.1), e.g. `http://localhost:8080`. */
  publicOrigin(): string;
  serverId(): string;
  version: string;
  limits: WsLimits;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  lifecycle: { isShuttingDown(): boolean };
  /** Operations (ops.md): the `ws_requests` bucket, send admission, metrics. Absent: none apply. */
  ops?: WsOps | undefined;
}

/** What operations see of the WebSocket edge; every hook is O(1) except the admission checks of `send`. */
export interface WsOps {
  /** Takes a token of the connection's `ws_requests` bucket: 0 granted, else the retry hint in ms. */
  takeRequest(connId: string): number;
  /** A `req` answered: its method (or `unknown`) and `OK` or the error code. */
  requestAnswered(method: string, code: string): void;
  /** The hello succeeded (an established connection) / an established connection ended. */
  established(delta: 1 | -1): void;
  /** The socket closed with this code. */
  closed(code: number): void;
  /** A topic subscription started (1) or ended (-1). */
  subscribers(delta: 1 | -1): void;
  /** The connection was closed 4008 for a full topic queue. */
  overflowed(): void;
  /** A run or replay waited for the socket to drain / was treated as gone after the stall timeout. */
  writeWait(): void;
  writeStall(): void;
  /** The hello's credential was refused; `cause` is the refusal (a GatewayError), mapped to a reason label. */
  authFailed(cause: unknown): void;
  /** Maintenance (UNAVAILABLE with retry 60 s) after idempotency; budgets after the target. */
  maintenance: { check(): void; state(): { enabled: boolean; message: string; since: string | null } };
  budgets: { check(input: { principalId: string | null; agentId: string; actor: string }): Promise<void> };
}
