// ABOUTME: Gateway-owned tool approvals: records agents' requests, answers them once (audited), expires and cancels.
// ABOUTME: Publishes every pending and resolved approval to the hub; also holds gateway-run calls the guard holds.
import type { AgentManager } from "../agent/agent-manager.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { createApprovalRepository, type ToolApproval } from "../store/approval-repository.js";
import { createAuditRepository } from "../store/audit-repository.js";
import { inTransaction, type StoreExecutor } from "../store/transaction.js";
import type { EventHub } from "./event-hub.js";
import type { TurnApprovals } from "./turn-recorder.js";

/** coven-agent's own wait for an answer (agent-stream.md §6). */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 300_000;
/** The backstop sweep for rows whose timer was lost (store.md §9). */
export const DEFAULT_APPROVAL_SWEEP_MS = 30_000;

/** The command guard's verdict over an agent's approval request (ops.md §3.3, source `approval_request`). */
export type ApprovalGuard = (call: { agentId: string; toolName: string; inputJson: string }) =>
  | { action: "deny" | "require_approval" | "warn"; rule: string }
  | undefined;

/** How a gateway-held call's approval ended (ops.md §3.4); only `approved` lets the call run. */
export type HeldOutcome = "approved" | "denied" | "expired" | "canceled";

/** A call the gateway runs itself (ExecutePackTool, MCP tools/call) held for an approval (ops.md §3.4). */
export interface HeldCall {
  /** The caller identity: the connection's agent_id, or the MCP session identity. */
  agentId: string;
  principalId: string | null;
  /** The call's request id; also the row's `tool_id`. */
  requestId: string;
  toolName: string;
  inputJson: string;
  /** Aborted when the call went away (agent stream ended, MCP request aborted): the row becomes `canceled`. */
  signal: AbortSignal;
}

export interface ApprovalServiceDeps {
  db: StoreExecutor;
  agents: Pick<AgentManager, "get" | "sendToolApproval">;
  hub: EventHub;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** How long a request waits before it expires (default 300 s). */
  timeoutMs?: number;
  /** Backstop sweep interval (default 30 s). */
  sweepIntervalMs?: number;
  /** The command guard over agents' approval requests; absent (or guard off), every request is stored pending. */
  guard?: ApprovalGuard | undefined;
}

export interface ApprovalAnswer {
  agentId: string;
  toolId: string;
  approved: boolean;
  approveAll: boolean;
  /** The actor string (principal id, `anonymous`, `webadmin:<id>`). */
  actor: string;
  /** Extra audit detail keys (web admin adds `username`). */
  auditDetail?: Record<string, unknown>;
}

/** Owns the lifecycle of `tool_approvals` rows. One instance per gateway. */
export class ApprovalService implements TurnApprovals {
  #deps: ApprovalServiceDeps;
  #timeoutMs: number;
  #timers = new Map<string, NodeJS.Timeout>();
  #sweep: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  /** Gateway-held calls waiting on their row, by approval id. */
  #held = new Map<string, { agentId: string; toolId: string; settle: (outcome: HeldOutcome) => void }>();
  readonly counters = { recorded: 0, answered: 0, expired: 0, canceled: 0 };

  constructor(deps: ApprovalServiceDeps) {
    this.#deps = deps;
    this.#timeoutMs = deps.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  }

  /**
   * Records a pending approval for a request in flight (called by the turn recorder) and publishes it. A repeat
   * of a request that is still pending writes nothing and publishes nothing. A guard `deny` (ops.md §3.3) stores
   * the row `denied` by `guard:<rule>` without passing through pending, answers the agent at once and publishes
   * only its resolution; then `guard_denied` is returned and the caller relays no `tool_approval` event. Throws
   * driver errors (after the agent was told no, for a denial).
   */
  async recordPending(input: Parameters<TurnApprovals["recordPending"]>[0]): Promise<"pending" | "guard_denied"> {
    const verdict = this.#deps.guard?.({ agentId: input.agentId, toolName: input.toolName, inputJson: input.inputJson });
    if (verdict?.action === "deny") {
      await this.#guardDeny(input, `guard:${verdict.rule}`);
      return "guard_denied";
    }
    const now = this.#deps.clock.now();
    const id = this.#deps.ids.uuid();
    const approval = await createApprovalRepository(this.#deps.db).insertPending({
      id,
      agentId: input.agentId,
      principalId: input.principalId,
      requestId: input.requestId,
      threadId: input.threadId,
      toolId: input.toolId,
      toolName: input.toolName,
      inputJson: input.inputJson,
      createdAt: isoTimestamp(now),
      expiresAt: isoTimestamp(new Date(now.getTime() + this.#timeoutMs)),
    });
    if (approval.id !== id) return "pending";
    this.counters.recorded += 1;
    this.#arm(approval);
    this.#publishPending(approval);
    return "pending";
  }

  /**
   * Holds a call the gateway runs itself until its approval is answered (ops.md §3.4): a pending row with
   * `tool_id` = `request_id` = the call's id and no thread, announced like an agent's approval. Resolves
   * `approved` (the call may run), `denied`, `expired`, or `canceled` (the call went away, or shutdown). Fails
   * closed: a row that cannot be written rejects, and the caller must not run the call.
   */
  async hold(call: HeldCall): Promise<HeldOutcome> {
    if (call.signal.aborted) return "canceled";
    const now = this.#deps.clock.now();
    const approval = await createApprovalRepository(this.#deps.db).insertPending({
      id: this.#deps.ids.uuid(),
      agentId: call.agentId,
      principalId: call.principalId,
      requestId: call.requestId,
      threadId: null,
      toolId: call.requestId,
      toolName: call.toolName,
      inputJson: call.inputJson,
      createdAt: isoTimestamp(now),
      expiresAt: isoTimestamp(new Date(now.getTime() + this.#timeoutMs)),
    });
    this.counters.recorded += 1;
    const outcome = new Promise<HeldOutcome>((resolve) => {
      this.#held.set(approval.id, { agentId: approval.agentId, toolId: approval.toolId, settle: resolve });
    });
    const onAbort = () => {
      createApprovalRepository(this.#deps.db)
        .cancel(approval.id, this.#now())
        .then((row) => {
          if (row === undefined) return;
          this.counters.canceled += 1;
          this.#resolved(row);
        })
        .catch((cause: unknown) => this.#deps.log.error("canceling held tool approval failed", { approval_id: approval.id, cause }))
        .finally(() => this.#settleHeld(approval.id, "canceled"));
    };
    call.signal.addEventListener("abort", onAbort, { once: true });
    this.#arm(approval);
    this.#publishPending(approval);
    try {
      return await outcome;
    } finally {
      call.signal.removeEventListener("abort", onAbort);
    }
  }

  /** Cancels the pending approvals of a request that ended (terminal event, cancel, disconnect). */
  async cancelForRequest(requestId: string): Promise<void> {
    const rows = await createApprovalRepository(this.#deps.db).cancelForRequest(requestId, this.#now());
    for (const row of rows) {
      this.counters.canceled += 1;
      this.#resolved(row);
      this.#settleHeld(row.id, "canceled");
    }
  }

  /**
   * Answers the oldest pending approval of (agentId, toolId), audited `approve_tool` in the same transaction, then
   * tells the agent. Check order of http-api.md §8. Throws NOT_FOUND `agent not found` (not connected), NOT_FOUND
   * `tool approval not found` (no row at all), FAILED_PRECONDITION `tool approval already resolved` (none pending,
   * or another answer won), INTERNAL `failed to send approval` (the row stays resolved).
   */
  async answer(input: ApprovalAnswer): Promise<ToolApproval> {
    const { agents, log } = this.#deps;
    // A gateway-held call stands in for the connected agent: it is what waits for the answer (ops.md §3.4).
    // A call that went away left its row canceled: a late answer learns that rather than `agent not found`.
    const isHeld = this.#heldFor(input.agentId, input.toolId);
    if (!isHeld && agents.get(input.agentId) === undefined) {
      if (!(await createApprovalRepository(this.#deps.db).isGatewayHeld(input.agentId, input.toolId))) {
        throw new GatewayError("NOT_FOUND", "agent not found");
      }
    }
    // approve_all means nothing to a held call (no agent remembers it).
    const approveAll = isHeld ? false : input.approveAll;
    const now = this.#now();
    const approval = await inTransaction(this.#deps.db, async (trx) => {
      const outcome = await createApprovalRepository(trx).resolveOldest(
        input.agentId,
        input.toolId,
        input.approved ? "approved" : "denied",
        approveAll,
        input.actor,
        now,
      );
      if (outcome.outcome === "not_found") throw new GatewayError("NOT_FOUND", "tool approval not found");
      if (outcome.outcome === "already_resolved") throw new GatewayError("FAILED_PRECONDITION", "tool approval already resolved");
      const row = outcome.approval;
      await createAuditRepository(trx).record({
        actor: input.actor,
        action: "approve_tool",
        targetType: "tool_approval",
        targetId: row.id,
        detail: {
          ...input.auditDetail,
          agent_id: row.agentId,
          tool_id: row.toolId,
          request_id: row.requestId,
          approved: input.approved,
          approve_all: approveAll,
        },
        now,
      });
      return row;
    });
    this.counters.answered += 1;
    this.#resolved(approval);
    if (this.#held.has(approval.id)) {
      this.#settleHeld(approval.id, input.approved ? "approved" : "denied");
      return approval;
    }
    try {
      await agents.sendToolApproval(input.agentId, input.toolId, input.approved, input.approveAll);
    } catch (err) {
      log.warn("sending tool approval failed", { agent_id: input.agentId, tool_id: input.toolId, cause: err });
      throw new GatewayError("INTERNAL", "failed to send approval", { cause: err, reason: "approval_send_failed" });
    }
    return approval;
  }

  /** Pending approvals, optionally of one agent, oldest first. Throws driver errors. */
  listPending(agentId?: string): Promise<ToolApproval[]> {
    return createApprovalRepository(this.#deps.db).listPending(agentId);
  }

  /** Gateway start (store.md §9): every pending row becomes `canceled` by `system`. Returns how many. */
  cancelAllPending(): Promise<number> {
    return createApprovalRepository(this.#deps.db).cancelAllPending(this.#now());
  }

  /** Starts the 30 s backstop sweep. */
  start(): void {
    if (this.#sweep) return;
    this.#sweep = setInterval(() => {
      this.sweepExpired().catch((cause: unknown) => this.#deps.log.error("approval sweep failed", { cause }));
    }, this.#deps.sweepIntervalMs ?? DEFAULT_APPROVAL_SWEEP_MS);
    this.#sweep.unref();
  }

  /** Stops the sweep and every per-row timer (shutdown); held calls fail closed. Rows are left as they are. */
  stop(): void {
    for (const id of [...this.#held.keys()]) this.#settleHeld(id, "canceled");
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Expires every pending row past its deadline (the backstop; also usable directly). Throws driver errors. */
  async sweepExpired(): Promise<void> {
    this.#sweeping ??= (async () => {
      try {
        const due = await createApprovalRepository(this.#deps.db).listExpiredPending(this.#now());
        for (const row of due) await this.#expire(row.id);
      } finally {
        this.#sweeping = undefined;
      }
    })();
    return this.#sweeping;
  }

  #arm(approval: ToolApproval): void {
    const delay = Math.max(0, Date.parse(approval.expiresAt) - this.#deps.clock.now().getTime());
    const timer = setTimeout(() => {
      this.#timers.delete(approval.id);
      this.#expire(approval.id).catch((cause: unknown) =>
        this.#deps.log.error("expiring tool approval failed", { approval_id: approval.id, cause }),
      );
    }, delay);
    timer.unref();
    this.#timers.set(approval.id, timer);
  }

  async #expire(id: string): Promise<void> {
    const row = await createApprovalRepository(this.#deps.db).expire(id, this.#now());
    if (row === undefined) return;
    this.counters.expired += 1;
    this.#resolved(row);
    if (this.#held.has(row.id)) {
      this.#settleHeld(row.id, "expired");
      return;
    }
    try {
      await this.#deps.agents.sendToolApproval(row.agentId, row.toolId, false, false);
    } catch (err) {
      this.#deps.log.debug("sending deny for expired approval failed", { agent_id: row.agentId, tool_id: row.toolId, cause: err });
    }
  }

  async #guardDeny(input: Parameters<TurnApprovals["recordPending"]>[0], resolvedBy: string): Promise<void> {
    const now = this.#now();
    try {
      await this.#deps.agents.sendToolApproval(input.agentId, input.toolId, false, false);
    } catch (err) {
      this.#deps.log.warn("sending guard denial failed", { agent_id: input.agentId, tool_id: input.toolId, cause: err });
    }
    const row = await createApprovalRepository(this.#deps.db).insertDenied({
      id: this.#deps.ids.uuid(),
      agentId: input.agentId,
      principalId: input.principalId,
      requestId: input.requestId,
      threadId: input.threadId,
      toolId: input.toolId,
      toolName: input.toolName,
      inputJson: input.inputJson,
      createdAt: now,
      expiresAt: isoTimestamp(new Date(Date.parse(now) + this.#timeoutMs)),
      resolvedBy,
    });
    this.#resolved(row);
  }

  #heldFor(agentId: string, toolId: string): boolean {
    for (const held of this.#held.values()) if (held.agentId === agentId && held.toolId === toolId) return true;
    return false;
  }

  #settleHeld(id: string, outcome: HeldOutcome): void {
    const held = this.#held.get(id);
    if (held === undefined) return;
    this.#held.delete(id);
    held.settle(outcome);
  }

  #publishPending(approval: ToolApproval): void {
    this.#deps.hub.publish({
      kind: "approval",
      conversationKey: approval.agentId,
      requestId: approval.requestId,
      approval,
      at: approval.createdAt,
    });
  }

  #resolved(row: ToolApproval): void {
    const timer = this.#timers.get(row.id);
    if (timer) clearTimeout(timer);
    this.#timers.delete(row.id);
    this.#deps.hub.publish({
      kind: "approval_resolved",
      conversationKey: row.agentId,
      requestId: row.requestId,
      approval: row,
      at: row.resolvedAt ?? this.#now(),
    });
  }

  #now(): string {
    return isoTimestamp(this.#deps.clock.now());
  }
}

/** Builds the approval service; pass it as `approvals` to ConversationService and call `start()` after startup. */
export function createApprovalService(deps: ApprovalServiceDeps): ApprovalService {
  return new ApprovalService(deps);
}
