// ABOUTME: Wires operations (ops.md) into the gateway: metrics, rate limits, guard, costs, budgets and maintenance,
// ABOUTME: plus the adapters that let the domain and the edges report to them without importing src/ops themselves.
import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { sql } from "kysely";
import type { AgentManager } from "../agent/agent-manager.js";
import type { AgentStreamObserver } from "../agent/agent-ports.js";
import { streamCloseReason } from "../agent/stream-close-reason.js";
import type { Lockout } from "../auth/lockout.js";
import type { GatewayConfig } from "../config/types.js";
import type { ApprovalGuard, ApprovalService, HeldOutcome } from "../conversation/approval-service.js";
import type { EventHub } from "../conversation/event-hub.js";
import type { TurnObserver } from "../conversation/turn-observer.js";
import type { HttpAuthenticator } from "../http/http-auth.js";
import type { HttpOps } from "../http/ops-routes.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import { debugContent } from "../lib/log-redaction.js";
import { createWarnLimiter } from "../lib/warn-limiter.js";
import { packageVersion } from "../lib/package-version.js";
import type { McpOps } from "../mcp/mcp-server.js";
import type { WsOps } from "../ws/ws-deps.js";
import { authFailureReason } from "../ops/auth-failure-reason.js";
import { createBudgets, type Budgets } from "../ops/budgets.js";
import { createCommandGuard, type CommandGuard, type GuardVerdict } from "../ops/command-guard.js";
import { createCostMeter, type CostMeter } from "../ops/cost-meter.js";
import { GatewayMetrics, type AuthEdge, type GuardSource } from "../ops/gateway-metrics.js";
import { createMaintenance, type Maintenance } from "../ops/maintenance.js";
import { createRateLimits, type RateLimits } from "../ops/rate-limits.js";
import type { RpcAuthenticator } from "../rpc/rpc-auth.js";
import { createAuditRepository, SYSTEM_ACTOR } from "../store/audit-repository.js";
import { isMemoryDatabase } from "../store/database.js";
import type { Database } from "../store/schema.js";
import { createUsageRepository } from "../store/usage-repository.js";
import type { Kysely } from "kysely";
import type { LedgerRepository } from "../store/ledger-repository.js";
import type { WebAuthFailure } from "../webadmin/web-context.js";

export interface GatewayOps {
  metrics: GatewayMetrics;
  limits: RateLimits;
  guard: CommandGuard;
  costs: CostMeter;
  maintenance: Maintenance;
  budgets: Budgets;
  /** What the HTTP edge mounts (metrics route, limits, maintenance, budgets, guard dry run). */
  http: HttpOps;
  /** What the gRPC SendMessage checks. */
  send: { limits: RateLimits; maintenance: Maintenance; budgets: Budgets };
  turns: TurnObserver;
  streams: AgentStreamObserver;
  /** Counts auth failures of an edge and the lockouts they cause. */
  meterHttpAuth(auth: HttpAuthenticator, lockout: Lockout | undefined): HttpAuthenticator;
  meterRpcAuth(auth: RpcAuthenticator, lockout: Lockout | undefined): RpcAuthenticator;
  mcp(): McpOps;
  /** The ledger the turn pipeline appends through, timing each append (`coven_ledger_commit_seconds`). */
  meterLedger(ledger: LedgerRepository): LedgerRepository;
  /** Counts a refused web admin sign-in. */
  webAuthFailed(reason: WebAuthFailure): void;
  /**
   * The guard over an agent's ExecutePackTool (source `pack_tool`): resolves to a refusal text, or undefined to
   * run it. A `require_approval` verdict holds the call on a gateway-owned approval (ops.md §3.4) first.
   */
  packToolGuard(call: GuardedCall): Promise<string | undefined>;
  /** The guard over agents' approval requests (source `approval_request`), for the approval service. */
  approvalGuard: ApprovalGuard;
  ws(): WsOps;
  /**
   * Startup: reads the persisted maintenance state, seeds budget spend, and observes agents (connected gauge,
   * stream outcomes) and the hub (ledger rows, approvals, questions).
   */
  start(domain: { agents: AgentManager; hub: EventHub; approvals: Pick<ApprovalService, "hold"> }): Promise<void>;
  close(): Promise<void>;
}

/** A call the gateway runs itself, as the guard sees it. */
export interface GuardedCall {
  toolName: string;
  /** The pack that owns the tool (the `pack` label of `coven_pack_calls_total`). */
  packId: string;
  inputJson: string;
  agentId: string;
  principalId: string | null;
  requestId: string;
  signal: AbortSignal;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
}

/** Builds operations over the opened store; `start` reads the persisted state before any edge takes traffic. */
export function createOps(deps: {
  config: GatewayConfig;
  db: Kysely<Database>;
  /** The database file (its size and its WAL's are `coven_db_size_bytes`); `:memory:` reads the page count. */
  dbPath: string;
  clock: Clock;
  log: Logger;
}): GatewayOps {
  const { config, db, dbPath, clock, log } = deps;
  let agents: AgentManager | undefined;
  let approvals: Pick<ApprovalService, "hold"> | undefined;
  const metrics = new GatewayMetrics({ enabled: config.metrics.enabled, version: packageVersion() });
  metrics.setDbSizeReader(async () => {
    if (!isMemoryDatabase(dbPath)) return fileSize(dbPath) + fileSize(`${dbPath}-wal`);
    const pages = await sql<{ page_count: number }>`PRAGMA page_count`.execute(db);
    const size = await sql<{ page_size: number }>`PRAGMA page_size`.execute(db);
    return Number(pages.rows[0]?.page_count ?? 0) * Number(size.rows[0]?.page_size ?? 0);
  });
  const limits = createRateLimits({ config: config.rateLimits, metrics, log, now: () => clock.now().getTime() });
  const guard = createCommandGuard(config.guard);
  const costs = createCostMeter(config.costs);
  const maintenance = createMaintenance({ db, clock, log, metrics });
  const usage = createUsageRepository(db);
  const budgets = createBudgets({ budgets: config.budgets, currency: costs.currency, db, usage, clock, log, metrics });

  let seenLockouts: number | undefined;
  const countFailure = (edge: AuthEdge, err: unknown, lockout: Lockout | undefined) => {
    const reason = authFailureReason(err);
    if (reason !== undefined) metrics.authFailure(edge, reason);
    if (lockout !== undefined) {
      const now = lockout.stats().lockouts;
      if (seenLockouts !== undefined && now > seenLockouts) for (let i = seenLockouts; i < now; i += 1) metrics.lockout();
      seenLockouts = now;
    }
  };

  const writes = new Set<Promise<void>>();
  const warns = createWarnLimiter(() => clock.now().getTime());
  /**
   * Evaluates the guard over one call and writes its record (ops.md §3.5): audit `guard_match`, the counter and a
   * log line. Returns the verdict (undefined when allowed). The audit write runs in the background.
   */
  const guardCall = (source: GuardSource, toolName: string, inputJson: string, target: string): GuardVerdict | undefined => {
    const verdict = guard.evaluate(toolName, inputJson);
    if (verdict === undefined) return undefined;
    // At tool_use nothing can be stopped, so every verdict there is recorded as a warn.
    const action = source === "tool_use" ? "warn" : verdict.action;
    metrics.guardMatch(action, source);
    const attrs = { rule: verdict.rule, action, source, tool_name: toolName, agent_id: target };
    if (action === "warn") log.info("guard rule matched", attrs);
    else warns.warn(log, `guard\u0000${verdict.rule}\u0000${target}`, "guard rule matched", attrs);
    const write = createAuditRepository(db)
      .record({
        actor: SYSTEM_ACTOR,
        action: "guard_match",
        targetType: "agent",
        targetId: target,
        detail: { rule: verdict.rule, action, source, tool_name: toolName },
        now: isoTimestamp(clock.now()),
      })
      .then(
        () => undefined,
        (cause: unknown) => log.error("writing guard audit row failed", { cause }),
      );
    writes.add(write);
    void write.finally(() => writes.delete(write));
    return { ...verdict, action };
  };
  /**
   * The guard over a tool the gateway runs (sources `pack_tool`, `mcp`): a refusal text, or undefined to run it.
   * A hold waits on a gateway-owned approval; anything but `approved` (or a failure to hold) refuses: fail closed.
   */
  const gatewayToolGuard = async (source: "pack_tool" | "mcp", call: GuardedCall): Promise<string | undefined> => {
    if (!guard.isEnabled) return undefined;
    const verdict = guardCall(source, call.toolName, call.inputJson, call.agentId);
    if (verdict === undefined || verdict.action === "warn") return undefined;
    // A refused call never reaches the metered router, so its `coven_pack_calls_total` outcome is counted here.
    if (verdict.action === "deny") {
      metrics.packCall(call.packId, "guard_denied", undefined);
      return `denied by guard: ${verdict.message}`;
    }
    let outcome: HeldOutcome | "failed" = "failed";
    if (approvals !== undefined) {
      try {
        outcome = await approvals.hold(call);
      } catch (cause) {
        log.error("holding a tool call for approval failed", { tool_name: call.toolName, agent_id: call.agentId, cause });
      }
    }
    if (outcome === "approved") return undefined;
    // Denied or expired is the guard's refusal; a caller gone (canceled) or a failure to hold is an `error`.
    metrics.packCall(call.packId, outcome === "denied" || outcome === "expired" ? "guard_denied" : "error", undefined);
    return "denied by approval";
  };

  const turns: TurnObserver = {
    committed: (seconds) => metrics.ledgerCommit(seconds),
    accepted({ requestId, ingress, agentId, actorPrincipalId }) {
      const meter = metrics.turnAccepted(ingress);
      const backend = agents?.get(agentId)?.backend ?? "";
      // ops.md §6: a turn's lines carry its request id, agent and principal from acceptance to its terminal event.
      const turnLog = log.child({ request_id: requestId, agent_id: agentId, principal_id: actorPrincipalId, ingress });
      const startedAt = performance.now();
      turnLog.debug("turn accepted");
      return {
        event(event) {
          meter.event(event.kind);
          if (event.kind === "done" || event.kind === "error" || event.kind === "canceled") {
            turnLog.info("turn ended", { outcome: event.kind, duration_ms: Math.round(performance.now() - startedAt) });
          }
          // A tool_use reports a call already running at the agent: it cannot be stopped, only recorded (§3.3).
          if (event.kind === "tool_use") debugContent(turnLog, "tool use", event.inputJson, { tool_name: event.name });
          if (event.kind === "tool_use" && guard.isEnabled) guardCall("tool_use", event.name, event.inputJson, agentId);
        },
        price: (usage) => costs.price(agentId, backend, usage),
        usageStored(usage, costMicros) {
          metrics.tokens("input", usage.inputTokens);
          metrics.tokens("output", usage.outputTokens);
          metrics.tokens("cache_read", usage.cacheReadTokens);
          metrics.tokens("cache_write", usage.cacheWriteTokens);
          metrics.tokens("thinking", usage.thinkingTokens);
          if (costMicros === null) return;
          metrics.costMicros(costMicros);
          budgets.record({ agentId, principalId: actorPrincipalId, costMicros });
        },
      };
    },
  };

  const http: HttpOps = { metrics, metricsConfig: config.metrics, limits, maintenance, budgets, guard, currency: costs.currency };

  return {
    metrics,
    limits,
    guard,
    costs,
    maintenance,
    budgets,
    http,
    send: { limits, maintenance, budgets },
    turns,
    streams: {
      eventDiscarded: (reason) => metrics.eventDiscarded(reason),
      backpressurePause: () => metrics.backpressurePause(),
      registrationRefused: () => metrics.agentStream("rejected"),
    },
    meterLedger(ledger) {
      if (!metrics.isEnabled) return ledger;
      return {
        ...ledger,
        append(input, options) {
          const began = performance.now();
          const appended = ledger.append(input, options);
          appended.then(
            () => metrics.ledgerCommit((performance.now() - began) / 1000),
            () => {},
          );
          return appended;
        },
      };
    },
    webAuthFailed: (reason) => metrics.authFailure("webadmin", reason),
    meterHttpAuth(auth, lockout) {
      return {
        async authenticate(request) {
          try {
            return await auth.authenticate(request);
          } catch (err) {
            countFailure("http", err, lockout);
            throw err;
          }
        },
      };
    },
    meterRpcAuth(auth, lockout) {
      return {
        async authenticate(context) {
          try {
            return await auth.authenticate(context);
          } catch (err) {
            countFailure("grpc", err, lockout);
            if (context.kind === "agent_stream") metrics.agentStream("rejected");
            throw err;
          }
        },
      };
    },
    mcp() {
      return {
        takeCall: (sessionKey) => limits.take("mcp", sessionKey),
        sessionOpened: () => metrics.mcpSessions(1),
        sessionClosed: () => metrics.mcpSessions(-1),
        request: (method) => metrics.mcpRequest(method),
        guard: ({ toolName, packId, inputJson, requestId, identity, signal }) =>
          gatewayToolGuard("mcp", { toolName, packId, inputJson, agentId: identity.agentId, principalId: identity.principalId, requestId, signal }),
        authFailure(refusal, hadCredential) {
          if (refusal.status === 403) {
            metrics.authFailure("mcp", refusal.reason === "principal_revoked" ? "revoked" : "pending");
            return;
          }
          metrics.authFailure("mcp", hadCredential ? "invalid" : "missing");
        },
      };
    },
    ws() {
      return {
        takeRequest: (connId) => limits.take("ws", connId),
        requestAnswered: (method, code) => metrics.wsRequest(method, code),
        established: (delta) => metrics.wsConnections(delta),
        closed: (code) => metrics.wsClose(code),
        subscribers: (delta) => metrics.subscribers("ws", delta),
        overflowed: () => metrics.subscriberOverflow("ws"),
        writeWait: () => metrics.writeWait("ws"),
        writeStall: () => metrics.writeStall("ws"),
        authFailed(cause) {
          const reason = authFailureReason(cause);
          if (reason !== undefined) metrics.authFailure("ws", reason);
        },
        maintenance,
        budgets,
      };
    },
    async start(domain) {
      await maintenance.load();
      await budgets.seed();
      const live = domain.agents;
      agents = live;
      approvals = domain.approvals;
      const hub = domain.hub;
      // Counted incrementally from the change events: recounting `live.list()` built a snapshot of every agent on
      // each idle/busy flip, ~5% of the gateway's busy time under load with 100 agents (issue 10 profile).
      const stateOf = new Map<string, string>();
      const counts = new Map<string, number>();
      const move = (from: string | undefined, to: string | undefined) => {
        if (from !== undefined) {
          const left = (counts.get(from) ?? 1) - 1;
          if (left > 0) counts.set(from, left);
          else counts.delete(from);
        }
        if (to !== undefined) counts.set(to, (counts.get(to) ?? 0) + 1);
      };
      live.onChange((event, info, end) => {
        if (event === "connected") metrics.agentStream("registered");
        if (event === "disconnected") metrics.agentStreamClosed(streamCloseReason(end));
        const before = stateOf.get(info.agentId);
        if (event === "disconnected") {
          stateOf.delete(info.agentId);
          move(before, undefined);
        } else if (event === "connected" || before !== undefined) {
          stateOf.set(info.agentId, info.state);
          move(before, info.state);
        }
        metrics.agentsConnected(counts);
      });
      hub.observeSubscribers({
        changed: (kind, delta) => metrics.subscribers(kind, delta),
        overflowed: (kind) => metrics.subscriberOverflow(kind),
      });
      hub.tap((event) => {
        switch (event.kind) {
          case "ledger":
            metrics.ledgerAppends();
            return;
          case "approval":
            metrics.approvalsPending(1);
            return;
          case "approval_resolved": {
            // A guard denial never was pending (ops.md §3.3): it only counts as its own outcome.
            if (event.approval.resolvedBy?.startsWith("guard:") === true) {
              metrics.approvalResolved("guard_denied");
              return;
            }
            metrics.approvalsPending(-1);
            const status = event.approval.status;
            if (status === "approved" || status === "denied" || status === "expired" || status === "canceled") metrics.approvalResolved(status);
            return;
          }
          case "question":
            metrics.questionsPending(1);
            return;
          case "question_resolved": {
            metrics.questionsPending(-1);
            const status = event.question.status;
            metrics.questionResolved(status === "answered" ? "answered" : status === "expired" ? "timeout" : "withdrawn");
            return;
          }
          default:
            return;
        }
      });
    },
    packToolGuard: (call) => gatewayToolGuard("pack_tool", call),
    approvalGuard(call) {
      if (!guard.isEnabled) return undefined;
      return guardCall("approval_request", call.toolName, call.inputJson, call.agentId);
    },
    async close() {
      metrics.close();
      await budgets.flush();
      await Promise.allSettled([...writes]);
    },
  };
}
