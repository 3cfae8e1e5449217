// ABOUTME: The single serialized writer of one agent stream: frames are queued and handed to gRPC in order.
// ABOUTME: Concurrent request tasks only enqueue, so frames never interleave; `end` half-closes after draining.
import type * as pb from "../../src/gen/coven_pb.js";

/** An ordered frame queue consumed by the gRPC client as the request stream. */
export class Outbox implements AsyncIterable<pb.AgentMessage> {
  readonly #queue: pb.AgentMessage[] = [];
  readonly #onSend: (msg: pb.AgentMessage) => void;
  #wake: (() => void) | undefined;
  #ended = false;
  #iterated = false;
  #parked = false;
  #idleWaiters: Array<() => void> = [];

  /** `onSend` runs as each frame is handed to the transport (used for the "out" trace). */
  constructor(onSend: (msg: pb.AgentMessage) => void) {
    this.#onSend = onSend;
  }

  /** Queues a frame; false (and nothing queued) once the outbox has ended. */
  push(msg: pb.AgentMessage): boolean {
    if (this.#ended) return false;
    this.#queue.push(msg);
    this.#notify();
    return true;
  }

  /** True once `end` or `abort` was called. */
  get isEnded(): boolean {
    return this.#ended;
  }

  /** Stops accepting frames; queued ones are still sent, then the request stream half-closes. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Stops accepting frames and drops the queued ones. */
  abort(): void {
    this.#ended = true;
    this.#queue.length = 0;
    this.#notify();
  }

  /**
   * Resolves once every queued frame was taken by the transport and it asks for more (or the outbox ended), so a
   * following abort does not drop frames queued before it.
   */
  whenIdle(): Promise<void> {
    if (this.#ended || (this.#parked && this.#queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #settleIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #notify(): void {
    if (this.#ended) this.#settleIdle();
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<pb.AgentMessage> {
    if (this.#iterated) throw new Error("outbox can be consumed only once");
    this.#iterated = true;
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        this.#onSend(next);
        yield next;
        continue;
      }
      if (this.#ended) return;
      this.#parked = true;
      this.#settleIdle();
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#parked = false;
    }
  }
}
