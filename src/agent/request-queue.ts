// ABOUTME: The per-request event queue between an agent stream and the request's consumer.
// ABOUTME: Never drops: it only reports its depth so the connection can pause reading at the high watermark.
import type { AgentEvent } from "./agent-events.js";

/**
 * An unbounded-by-construction FIFO whose depth is watched by its owner: the connection stops reading the agent's
 * stream when any queue reaches the high watermark, so in practice it holds at most high + a few frames.
 * Exactly one consumer iterates it; iteration ends after the terminal event.
 */
export class RequestQueue implements AsyncIterable<AgentEvent> {
  #items: AgentEvent[] = [];
  #head = 0;
  #waiter: ((value: IteratorResult<AgentEvent>) => void) | undefined;
  #ended = false;
  #onDrained: () => void;

  /** `onDequeue` runs after each event leaves the queue, so the owner can resume reading. */
  constructor(onDequeue: () => void) {
    this.#onDrained = onDequeue;
  }

  get depth(): number {
    return this.#items.length - this.#head;
  }

  /** Appends an event; after a terminal event the producer must not push again. */
  push(event: AgentEvent): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter({ value: event, done: false });
      this.#onDrained();
      return;
    }
    this.#items.push(event);
  }

  /** Marks the end of the stream of events (after the terminal event was pushed). */
  close(): void {
    this.#ended = true;
    if (this.depth === 0 && this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter({ value: undefined, done: true });
    }
  }

  #next(): Promise<IteratorResult<AgentEvent>> {
    if (this.depth > 0) {
      const value = this.#items[this.#head] as AgentEvent;
      this.#head += 1;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      this.#onDrained();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    return { next: () => this.#next() };
  }
}
