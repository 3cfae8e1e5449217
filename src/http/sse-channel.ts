// ABOUTME: One server-sent-events response: headers, ordered writes with backpressure, heartbeats, end and gone.
// ABOUTME: A write that cannot drain within the stall timeout, or a closed connection, marks the client gone.
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { HEARTBEAT_FRAME } from "./sse-events.js";

/** The SSE response headers of http-api.md §10.1 (the caller adds the CSP header). */
export const SSE_HEADERS: Readonly<OutgoingHttpHeaders> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

export interface SseChannelOptions {
  response: ServerResponse;
  /** Headers already set for this response (at least the CSP); the SSE headers are added on top. */
  headers: OutgoingHttpHeaders;
  heartbeatIntervalMs: number;
  writeStallTimeoutMs: number;
  /** Tracks open channels so shutdown can end them. */
  registry?: SseRegistry;
  /** Written before the stream ends when the registry closes every channel (gateway shutdown). */
  shutdownFrame?: string;
  /** Called once when the client disconnected or a write stalled before the stream was ended. */
  onGone?: () => void;
  /** Operations' counters of this stream (send streams: ops.md §1.3 `kind="sse"`). */
  meter?: SseMeter | undefined;
}

/** What operations count on an SSE stream; each hook is O(1). */
export interface SseMeter {
  /** The stream opened (1) or ended/went away (-1). */
  subscribers(delta: 1 | -1): void;
  /** A write waited for the socket to drain. */
  writeWait(): void;
  /** A write did not drain within the stall timeout: the client is treated as gone. */
  writeStall(): void;
}

type ChannelState = "new" | "open" | "ended" | "gone";

/**
 * An SSE stream over a raw ServerResponse (fastify's reply already hijacked). Writes are serialised in call order;
 * each resolves once the transport accepted it. No timer or listener outlives the stream.
 */
export class SseChannel {
  #options: SseChannelOptions;
  #state: ChannelState = "new";
  #tail: Promise<unknown> = Promise.resolve();
  #heartbeat: NodeJS.Timeout | undefined;
  #pendingWaits = new Set<() => void>();
  #corked = false;
  #settled: Promise<void>;
  #resolveSettled!: () => void;

  constructor(options: SseChannelOptions) {
    this.#options = options;
    this.#settled = new Promise((resolve) => {
      this.#resolveSettled = resolve;
    });
  }

  /** Resolves once the stream has ended or the client is gone; nothing of the channel is left running then. */
  get settled(): Promise<void> {
    return this.#settled;
  }

  get isOpen(): boolean {
    return this.#state === "open";
  }

  /**
   * Writes the 200 with the SSE headers and starts the heartbeat. With `firstChunk` the headers and that frame
   * leave in one socket write (a send stream's `started`: one syscall less per turn); without it the headers are
   * flushed at once. Returns false (after `onGone`) when the client is already gone.
   */
  open(firstChunk?: string): boolean {
    if (this.#state !== "new") return this.#state === "open";
    const response = this.#options.response;
    this.#state = "open";
    if (isDead(response)) {
      this.#markGone(false);
      return false;
    }
    response.writeHead(200, { ...this.#options.headers, ...SSE_HEADERS });
    if (firstChunk === undefined) response.flushHeaders();
    response.on("close", this.#onClose);
    response.on("error", this.#onError);
    this.#heartbeat = setInterval(this.#beat, this.#options.heartbeatIntervalMs);
    this.#heartbeat.unref();
    this.#options.registry?.add(this);
    this.#options.meter?.subscribers(1);
    if (firstChunk !== undefined) this.#tail = this.#write(firstChunk);
    return true;
  }

  /** Queues one frame. Resolves true once accepted by the transport, false when the stream is over or gone. */
  send(chunk: string): Promise<boolean> {
    const result = this.#tail.then(() => this.#write(chunk));
    this.#tail = result;
    return result;
  }

  /** Queues `finalChunk` (if any) and then ends the response. A no-op once the stream is over. */
  end(finalChunk?: string): Promise<void> {
    const result = this.#tail.then(async () => {
      if (this.#state !== "open") return;
      if (finalChunk !== undefined && !(await this.#write(finalChunk))) return;
      if (this.#state !== "open") return;
      // end() while still corked sends the last frames and the terminating chunk in one write.
      this.#corked = false;
      this.#options.response.end();
      this.#leave("ended");
    });
    this.#tail = result;
    return result;
  }

  /** Gateway shutdown: writes the shutdown frame (if configured) and ends the stream. */
  shutdown(): Promise<void> {
    return this.end(this.#options.shutdownFrame);
  }

  #write(chunk: string): Promise<boolean> {
    if (this.#state !== "open") return Promise.resolve(false);
    const response = this.#options.response;
    if (isDead(response)) {
      this.#markGone(false);
      return Promise.resolve(false);
    }
    this.#corkUntilNextTurn(response);
    if (response.write(chunk)) return Promise.resolve(true);
    this.#options.meter?.writeWait();
    return new Promise((resolve) => {
      const settle = (accepted: boolean) => {
        clearTimeout(timer);
        response.off("drain", onDrain);
        this.#pendingWaits.delete(cancel);
        resolve(accepted);
      };
      const onDrain = () => settle(true);
      const cancel = () => settle(false);
      const timer = setTimeout(() => {
        settle(false);
        if (this.#state === "open") this.#options.meter?.writeStall();
        this.#markGone(true);
      }, this.#options.writeStallTimeoutMs);
      response.on("drain", onDrain);
      this.#pendingWaits.add(cancel);
    });
  }

  /**
   * Agent frames arrive one per event-loop turn, so without this every SSE frame costs its own socket write (the
   * bench measured one writev per chunk). Corking until the end of the turn sends the turn's frames together;
   * backpressure is unchanged (write() still returns false past the high-water mark and 'drain' follows the flush).
   */
  #corkUntilNextTurn(response: ServerResponse): void {
    if (this.#corked) return;
    this.#corked = true;
    response.cork();
    setImmediate(this.#uncork);
  }

  #uncork = (): void => {
    if (!this.#corked) return;
    this.#corked = false;
    const response = this.#options.response;
    if (!response.destroyed) response.uncork();
  };

  #beat = (): void => {
    const response = this.#options.response;
    if (this.#state !== "open" || this.#pendingWaits.size > 0 || response.writableNeedDrain || isDead(response)) return;
    response.write(HEARTBEAT_FRAME);
  };

  #onClose = (): void => {
    if (this.#state === "open") this.#markGone(false);
  };

  #onError = (): void => {
    if (this.#state === "open") this.#markGone(true);
  };

  #markGone(isStalled: boolean): void {
    if (this.#state !== "open") return;
    this.#leave("gone");
    if (isStalled) this.#options.response.destroy();
    this.#options.onGone?.();
  }

  #leave(state: "ended" | "gone"): void {
    // Only an opened stream counted as a subscriber (`open` on a dead response goes straight to gone).
    if (this.#state === "open" && this.#heartbeat !== undefined) this.#options.meter?.subscribers(-1);
    this.#state = state;
    this.#uncork();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const response = this.#options.response;
    response.off("close", this.#onClose);
    response.off("error", this.#onError);
    for (const cancel of [...this.#pendingWaits]) cancel();
    this.#options.registry?.delete(this);
    this.#resolveSettled();
  }
}

function isDead(response: ServerResponse): boolean {
  return response.destroyed || response.writableEnded || response.socket === null || response.socket.destroyed;
}

/** The open SSE channels of one app, so shutdown can give each its final frame and end it. */
export class SseRegistry {
  #channels = new Set<SseChannel>();

  /** Number of open channels. */
  get size(): number {
    return this.#channels.size;
  }

  add(channel: SseChannel): void {
    this.#channels.add(channel);
  }

  delete(channel: SseChannel): void {
    this.#channels.delete(channel);
  }

  /** Ends every open channel with its shutdown frame; resolves when all have been handled. */
  async shutdownAll(): Promise<void> {
    await Promise.all([...this.#channels].map((channel) => channel.shutdown()));
  }
}
