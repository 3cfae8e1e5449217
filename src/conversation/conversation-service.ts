// ABOUTME: The one turn pipeline every ingress uses: thread, user message, dispatch, then record and fan out events.
// ABOUTME: Also owns the in-flight table (cancel by request or message id) and idempotent sends.
import type { AgentManager } from "../agent/agent-manager.js";
import type { AgentEvent } from "../agent/agent-events.js";
import type { Attachment } from "../agent/agent-frames.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError, isGatewayError } from "../lib/gateway-error.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { createIdempotencyRepository, insertIdempotencyKey } from "../store/idempotency-repository.js";
import { appendLedgerEvent, type LedgerRepository } from "../store/ledger-repository.js";
import type { StoreExecutor } from "../store/transaction.js";
import { threadWrites } from "../store/thread-repository.js";
import type { UsageRepository } from "../store/usage-repository.js";
import type { WriteBatcher } from "../store/write-batcher.js";
import type { EventHub } from "./event-hub.js";
import { KeyedMutex } from "./keyed-mutex.js";
import { resolveThread, type ThreadTarget } from "./thread-resolver.js";
import { TurnCatchUp, type TurnCatchUpSnapshot } from "./turn-catch-up.js";
import type { TurnIngress, TurnObserver, TurnWatch } from "./turn-observer.js";
import { TurnRecorder, type TurnApprovals } from "./turn-recorder.js";

/** The originating client of a turn (an SSE stream). `deliver` is awaited: it is how the client pushes back. */
export interface TurnSink {
  deliver(event: AgentEvent): Promise<void>;
}

export interface SendInput {
  /** The connection agent_id to dispatch to. */
  agentId: string;
  thread: Omit<ThreadTarget, "agentId">;
  sender: string;
  content: string;
  attachments?: Attachment[];
  /** The caller's principal (inbound actor); null for web chat. */
  actorPrincipalId: string | null;
  idempotency?: { scope: string; key: string; requestHash: string } | undefined;
  sink?: TurnSink;
  /**
   * Admission checks that must follow the idempotency lookup and precede any write (ops.md §4.5: maintenance and
   * budgets), so a retried send that was already accepted is still answered `duplicate`. Throws to refuse.
   */
  admit?: () => void | Promise<void>;
  /** Where the turn came from, for metrics (ops.md §1.4); `http` when absent. */
  ingress?: TurnIngress;
}

export type SendResult =
  | { status: "accepted"; messageId: string; requestId: string; threadId: string; finished: Promise<void> }
  | { status: "duplicate"; messageId: string; threadId: string; requestId: string | null };

interface InFlight {
  agentId: string;
  requestId: string;
  messageId: string;
  catchUp?: TurnCatchUp;
}

export interface ConversationServiceDeps {
  db: StoreExecutor;
  /** The store's group commit (write-batcher.ts); the turn's first write runs in it. */
  writes: WriteBatcher;
  /** Built over `db` with the same `writes`, so a turn's rows are group-committed too. */
  ledger: LedgerRepository;
  usage: UsageRepository;
  agents: AgentManager;
  hub: EventHub;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  approvals?: TurnApprovals;
  idempotencyTtlMs?: number;
  /** Operations' view of each accepted turn (metrics, pricing, budgets). */
  observer?: TurnObserver;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Runs turns. One instance per gateway. */
export class ConversationService {
  #deps: ConversationServiceDeps;
  #inFlight = new Map<string, InFlight>();
  #byMessageId = new Map<string, string>();
  #keyLocks = new KeyedMutex();
  #running = new Set<Promise<void>>();
  #lastMs = Number.NaN;
  #lastIso = "";
  readonly counters = { persistFailures: 0, turnsStarted: 0 };

  constructor(deps: ConversationServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Runs one turn (store.md §5). Resolves once the message was dispatched; the events then flow to the sink,
   * the ledger and the hub in the background (`finished` settles when the turn has ended).
   * Throws NOT_FOUND `agent not found` / UNAVAILABLE `agent unavailable` when dispatch fails (after recording an
   * `error` row), ALREADY_EXISTS `idempotency key reused with different content`, INTERNAL on store failure.
   */
  async send(input: SendInput): Promise<SendResult> {
    const idem = input.idempotency;
    if (!idem) {
      await input.admit?.();
      return this.#send(input);
    }
    return this.#keyLocks.run(`${idem.scope}\u0000${idem.key}`, async () => {
      const existing = await createIdempotencyRepository(this.#deps.db).find(idem.scope, idem.key, this.#now());
      if (existing) {
        if (existing.requestHash !== idem.requestHash) {
          throw new GatewayError("ALREADY_EXISTS", "idempotency key reused with different content");
        }
        return { status: "duplicate", messageId: existing.messageId, threadId: existing.threadId, requestId: existing.requestId };
      }
      await input.admit?.();
      return this.#send(input);
    });
  }

  async #send(input: SendInput): Promise<SendResult> {
    const { agents, hub, ids } = this.#deps;
    const now = this.#now();
    const requestId = ids.uuid();
    const idem = input.idempotency;
    // Thread, user message and idempotency key commit together, as one unit of the store's group commit: prepared
    // statements, one transaction shared with the other turns' writes of this event-loop turn.
    const began = performance.now();
    const { thread, userMessage } = await this.#deps.writes.run((ctx) => {
      const thread = resolveThread(threadWrites(ctx), ids, now, { ...input.thread, agentId: input.agentId });
      const event = appendLedgerEvent(
        ctx,
        {
          conversationKey: input.agentId,
          threadId: thread.id,
          requestId,
          direction: "inbound_to_agent",
          author: input.sender,
          type: "message",
          text: input.content,
          actorPrincipalId: input.actorPrincipalId,
        },
        isoTimestamp(this.#deps.clock.now()),
        ids,
      );
      if (idem) {
        insertIdempotencyKey(ctx, {
          scope: idem.scope,
          key: idem.key,
          requestHash: idem.requestHash,
          messageId: event.eventId,
          threadId: thread.id,
          requestId,
          createdAt: now,
          expiresAt: isoTimestamp(new Date(Date.parse(now) + (this.#deps.idempotencyTtlMs ?? DAY_MS))),
        });
      }
      return { thread, userMessage: event };
    });
    this.#deps.observer?.committed((performance.now() - began) / 1000);
    hub.publish({ kind: "ledger", conversationKey: input.agentId, requestId, event: userMessage });

    const turn: InFlight = { agentId: input.agentId, requestId, messageId: userMessage.eventId };
    this.#inFlight.set(requestId, turn);
    this.#byMessageId.set(userMessage.eventId, requestId);
    let handle;
    try {
      handle = await agents.dispatch({
        agentId: input.agentId,
        requestId,
        threadId: thread.id,
        sender: input.sender,
        content: input.content,
        attachments: input.attachments ?? [],
      });
    } catch (err) {
      this.#forget(turn);
      const text = isGatewayError(err, "NOT_FOUND") ? "agent not found" : "agent unavailable";
      await this.#recordDispatchFailure(input.agentId, thread.id, requestId, text);
      if (idem) {
        await createIdempotencyRepository(this.#deps.db)
          .delete(idem.scope, idem.key)
          .catch((cause: unknown) => this.#deps.log.error("deleting idempotency key failed", { cause }));
      }
      throw err;
    }
    this.counters.turnsStarted += 1;
    const watch = this.#deps.observer?.accepted({
      requestId,
      ingress: input.ingress ?? "http",
      agentId: input.agentId,
      actorPrincipalId: input.actorPrincipalId,
    });
    turn.catchUp = new TurnCatchUp(requestId);
    const recorder = new TurnRecorder(
      {
        ledger: this.#deps.ledger,
        usage: this.#deps.usage,
        hub,
        clock: this.#deps.clock,
        log: this.#deps.log,
        approvals: this.#deps.approvals,
        counters: this.counters,
        watch,
      },
      { agentId: input.agentId, agentPrincipalId: handle.principalId, requestId, threadId: thread.id },
    );
    const finished = this.#pump(turn, handle.events, recorder, input.sink, watch);
    this.#running.add(finished);
    finished.finally(() => this.#running.delete(finished)).catch(() => {});
    return { status: "accepted", messageId: userMessage.eventId, requestId, threadId: thread.id, finished };
  }

  /** The agent id of a turn in flight, by request id or by its user message id. */
  findInFlight(id: string): { agentId: string; requestId: string; messageId: string } | undefined {
    const requestId = this.#inFlight.has(id) ? id : this.#byMessageId.get(id);
    return requestId === undefined ? undefined : this.#inFlight.get(requestId);
  }

  /**
   * The catch-up state of this agent's turns in flight, oldest first (StreamEvents step 4). Synchronous, so a caller
   * that subscribes to the hub in the same step sees every transient event exactly once: in the snapshot if it
   * was published before, in its queue if after.
   */
  snapshotInFlight(agentId: string): TurnCatchUpSnapshot[] {
    const out: TurnCatchUpSnapshot[] = [];
    for (const turn of this.#inFlight.values()) {
      if (turn.agentId === agentId && turn.catchUp && !turn.catchUp.isEnded) out.push(turn.catchUp.snapshot());
    }
    return out;
  }

  /**
   * Cancels a turn in flight (the cancel API). Throws NOT_FOUND `request not found` when it is unknown or finished.
   */
  cancel(id: string, reason: string): { requestId: string } {
    const turn = this.findInFlight(id);
    if (!turn || !this.#deps.agents.cancel(turn.agentId, turn.requestId, reason, "explicit")) {
      throw new GatewayError("NOT_FOUND", "request not found");
    }
    return { requestId: turn.requestId };
  }

  /** The originating client went away: cancel as `client_gone` (detached when the agent lacks `cancellation`). */
  clientGone(requestId: string, reason = "client_disconnected"): void {
    const turn = this.#inFlight.get(requestId);
    if (turn) this.#deps.agents.cancel(turn.agentId, requestId, reason, "client_gone");
  }

  /** Waits for every running turn to finish recording (used at shutdown, after agents ended their requests). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }

  async #pump(
    turn: InFlight,
    events: AsyncIterable<AgentEvent>,
    recorder: TurnRecorder,
    sink: TurnSink | undefined,
    watch: TurnWatch | undefined,
  ): Promise<void> {
    const { hub, log } = this.#deps;
    let terminated = false;
    try {
      for await (const event of events) {
        watch?.event(event);
        const recording = recorder.record(event);
        // A guard-denied approval request is answered and resolved already; nobody is shown it (ops.md §3.3).
        if (recording && (await recording) === "withhold") continue;
        const at = this.#now();
        hub.publish({ kind: "agent", conversationKey: turn.agentId, requestId: turn.requestId, event, at });
        turn.catchUp?.add(event, at);
        if (sink) await sink.deliver(event);
        if (event.kind === "done" || event.kind === "error" || event.kind === "canceled") terminated = true;
      }
    } catch (err) {
      log.error("turn pipeline failed", { request_id: turn.requestId, cause: err });
    } finally {
      this.#forget(turn);
    }
    if (!terminated) {
      const internal: AgentEvent = { kind: "error", error: "internal error", origin: "gateway" };
      watch?.event(internal);
      await recorder.record(internal);
      hub.publish({ kind: "agent", conversationKey: turn.agentId, requestId: turn.requestId, event: internal, at: this.#now() });
      if (sink) await sink.deliver(internal).catch(() => {});
    }
  }

  async #recordDispatchFailure(agentId: string, threadId: string, requestId: string, text: string): Promise<void> {
    try {
      const event = await this.#deps.ledger.append({
        conversationKey: agentId,
        threadId,
        requestId,
        direction: "outbound_from_agent",
        author: "system",
        type: "error",
        text,
        actorPrincipalId: null,
      });
      this.#deps.hub.publish({ kind: "ledger", conversationKey: agentId, requestId, event });
    } catch (err) {
      this.counters.persistFailures += 1;
      this.#deps.log.error("recording dispatch failure failed", { request_id: requestId, cause: err });
    }
  }

  #forget(turn: InFlight): void {
    this.#inFlight.delete(turn.requestId);
    this.#byMessageId.delete(turn.messageId);
  }

  /** The clock's time as an ISO string, formatted at most once per millisecond (it runs for every chunk). */
  #now(): string {
    const date = this.#deps.clock.now();
    const ms = date.getTime();
    if (ms !== this.#lastMs) {
      this.#lastMs = ms;
      this.#lastIso = isoTimestamp(date);
    }
    return this.#lastIso;
  }
}
