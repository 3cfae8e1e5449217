// ABOUTME: The one fan-out point for conversation events: ledger rows and transient agent events per conversation.
// ABOUTME: Bounded per-subscriber queues; a subscriber that falls behind is ended with a counted, resumable reason.
import type { AgentEvent } from "../agent/agent-events.js";
import type { LedgerEvent } from "../store/ledger-repository.js";
import type { ToolApproval } from "../store/approval-repository.js";
import type { UserQuestion } from "../store/question-repository.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import { createWarnLimiter } from "../lib/warn-limiter.js";

/**
 * What flows through the hub. `hubSeq` is a per-conversation monotonic sequence assigned at publish.
 * `approval`/`question` announce a new pending prompt (approval service, question router); the `*_resolved`
 * kinds carry the row in its final status. Consumers ignore kinds they have no use for.
 */
export type HubEvent =
  | { kind: "ledger"; conversationKey: string; requestId: string | null; event: LedgerEvent; hubSeq: number }
  | { kind: "agent"; conversationKey: string; requestId: string; event: AgentEvent; at: string; hubSeq: number }
  | { kind: "approval"; conversationKey: string; requestId: string; approval: ToolApproval; at: string; hubSeq: number }
  | { kind: "approval_resolved"; conversationKey: string; requestId: string; approval: ToolApproval; at: string; hubSeq: number }
  | { kind: "question"; conversationKey: string; question: UserQuestion; at: string; hubSeq: number }
  | { kind: "question_resolved"; conversationKey: string; question: UserQuestion; at: string; hubSeq: number };

export type HubEventInput = HubEvent extends infer E ? (E extends HubEvent ? Omit<E, "hubSeq"> : never) : never;

/** Why a subscription ended. `slow_consumer` carries the last ledger event id the consumer received (resume point). */
export type SubscriptionEnd =
  | { reason: "closed" }
  | { reason: "slow_consumer"; resumeFromEventId: string | undefined; queued: number };

export interface HubSubscription extends AsyncIterable<HubEvent> {
  /** Resolves when the subscription ends, with the reason. */
  readonly ended: Promise<SubscriptionEnd>;
  close(): void;
}

interface Subscriber {
  id: number;
  queue: HubEvent[];
  head: number;
  max: number;
  waiter: ((r: IteratorResult<HubEvent>) => void) | undefined;
  end: SubscriptionEnd | undefined;
  resolveEnded: (end: SubscriptionEnd) => void;
  lastLedgerEventId: string | undefined;
  kind: HubSubscriberKind | undefined;
}

/** Which edge a subscription serves (ops.md §1.3 `coven_subscribers{kind}`). */
export type HubSubscriberKind = "stream_events" | "webchat";

/** Told of every subscription of a known kind that starts and ends (`overflow`: ended for a full queue). O(1). */
export interface HubSubscriberObserver {
  changed(kind: HubSubscriberKind, delta: 1 | -1): void;
  overflowed(kind: HubSubscriberKind): void;
}

/** Per-conversation publish/subscribe with bounded queues. Publishing never blocks and never drops silently. */
export class EventHub {
  #subscribers = new Map<string, Set<Subscriber>>();
  #log: Logger;
  readonly #warns = createWarnLimiter();
  #nextSubscriberId = 1;
  #seq = new Map<string, number>();
  #listeners = new Set<{ conversationKey: string | undefined; listener: (event: HubEvent) => void }>();
  readonly counters = { published: 0, subscriberOverflows: 0 };
  #tap: ((event: HubEventInput) => void) | undefined;
  #subscriberObserver: HubSubscriberObserver | undefined;

  /** `log` receives the warning for every subscriber removed on overflow (services.md §4). */
  constructor(options: { log?: Logger } = {}) {
    this.#log = options.log ?? silentLogger;
  }

  /**
   * Sets the one observer of every published event (operations' counters: ledger rows, approvals, questions). It
   * must be synchronous and O(1); it runs before the fan-out.
   */
  tap(listener: (event: HubEventInput) => void): void {
    this.#tap = listener;
  }

  /** Sets the one observer of subscriptions that name their `kind` (operations' gauges). */
  observeSubscribers(observer: HubSubscriberObserver): void {
    this.#subscriberObserver = observer;
  }

  /** Publishes to every subscriber of the event's conversation; returns the assigned hubSeq. */
  publish(input: HubEventInput): number {
    this.#tap?.(input);
    const hubSeq = (this.#seq.get(input.conversationKey) ?? 0) + 1;
    this.#seq.set(input.conversationKey, hubSeq);
    this.counters.published += 1;
    const subs = this.#subscribers.get(input.conversationKey);
    if (!subs && this.#listeners.size === 0) return hubSeq;
    const event = { ...input, hubSeq } as HubEvent;
    if (subs) for (const sub of subs) this.#offer(input.conversationKey, sub, event);
    for (const entry of this.#listeners) {
      if (entry.conversationKey !== undefined && entry.conversationKey !== input.conversationKey) continue;
      try {
        entry.listener(event);
      } catch (err) {
        this.#log.error("event hub listener failed", { topic: input.conversationKey, cause: err });
      }
    }
    return hubSeq;
  }

  /**
   * Calls `listener` synchronously with every event published to `conversationKey`, or to every conversation when
   * it is undefined. For consumers that keep their own bounded queue (the WebSocket edge's one queue per
   * connection, ws.md §8): registering and taking a snapshot in the same synchronous step misses nothing and
   * repeats nothing. Returns the function that removes the listener.
   */
  listen(conversationKey: string | undefined, listener: (event: HubEvent) => void): () => void {
    const entry = { conversationKey, listener };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Number of synchronous listeners (WebSocket topic subscriptions). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Number of live subscribers of a conversation. */
  subscriberCount(conversationKey: string): number {
    return this.#subscribers.get(conversationKey)?.size ?? 0;
  }

  /**
   * Subscribes to a conversation. Events published after this call are queued (up to `maxQueue`); subscribe
   * before reading history so nothing falls between replay and live.
   */
  subscribe(conversationKey: string, options: { maxQueue: number; kind?: HubSubscriberKind }): HubSubscription {
    let resolveEnded!: (end: SubscriptionEnd) => void;
    const ended = new Promise<SubscriptionEnd>((resolve) => {
      resolveEnded = resolve;
    });
    const sub: Subscriber = {
      id: this.#nextSubscriberId++,
      queue: [],
      head: 0,
      max: options.maxQueue,
      waiter: undefined,
      end: undefined,
      resolveEnded,
      lastLedgerEventId: undefined,
      kind: options.kind,
    };
    if (sub.kind !== undefined) this.#subscriberObserver?.changed(sub.kind, 1);
    let set = this.#subscribers.get(conversationKey);
    if (!set) {
      set = new Set();
      this.#subscribers.set(conversationKey, set);
    }
    set.add(sub);
    const next = (): Promise<IteratorResult<HubEvent>> => {
      if (sub.head < sub.queue.length) {
        const value = sub.queue[sub.head] as HubEvent;
        sub.head += 1;
        if (sub.head === sub.queue.length) {
          sub.queue = [];
          sub.head = 0;
        }
        if (value.kind === "ledger") sub.lastLedgerEventId = value.event.eventId;
        return Promise.resolve({ value, done: false });
      }
      if (sub.end) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        sub.waiter = resolve;
      });
    };
    return {
      ended,
      close: () => this.#end(conversationKey, sub, { reason: "closed" }),
      [Symbol.asyncIterator]: () => ({
        next,
        return: async () => {
          this.#end(conversationKey, sub, { reason: "closed" });
          return { value: undefined, done: true };
        },
      }),
    };
  }

  #offer(conversationKey: string, sub: Subscriber, event: HubEvent): void {
    if (sub.end) return;
    if (sub.waiter) {
      const waiter = sub.waiter;
      sub.waiter = undefined;
      if (event.kind === "ledger") sub.lastLedgerEventId = event.event.eventId;
      waiter({ value: event, done: false });
      return;
    }
    if (sub.queue.length - sub.head >= sub.max) {
      this.counters.subscriberOverflows += 1;
      const queued = sub.queue.length - sub.head;
      this.#warns.warn(this.#log, `subscriber_overflow\u0000${conversationKey}`, "event hub subscriber overflow", {
        topic: conversationKey,
        subscriber_id: sub.id,
        queued,
        overflows: this.counters.subscriberOverflows,
      });
      sub.queue = [];
      sub.head = 0;
      this.#end(conversationKey, sub, { reason: "slow_consumer", resumeFromEventId: sub.lastLedgerEventId, queued });
      return;
    }
    sub.queue.push(event);
  }

  #end(conversationKey: string, sub: Subscriber, end: SubscriptionEnd): void {
    if (sub.end) return;
    sub.end = end;
    if (sub.kind !== undefined) {
      this.#subscriberObserver?.changed(sub.kind, -1);
      if (end.reason === "slow_consumer") this.#subscriberObserver?.overflowed(sub.kind);
    }
    const set = this.#subscribers.get(conversationKey);
    set?.delete(sub);
    if (set && set.size === 0) this.#subscribers.delete(conversationKey);
    if (end.reason === "slow_consumer" || sub.head >= sub.queue.length) {
      const waiter = sub.waiter;
      sub.waiter = undefined;
      waiter?.({ value: undefined, done: true });
    }
    sub.resolveEnded(end);
  }
}
