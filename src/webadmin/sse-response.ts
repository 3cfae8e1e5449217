// ABOUTME: One server-sent-events response of the web admin: the SSE headers, ordered writes that wait for the
// ABOUTME: socket to drain, a heartbeat comment, and a close signal when the browser goes away.
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";

export const SSE_HEADERS: Readonly<OutgoingHttpHeaders> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

/** An open SSE response over a hijacked raw response. */
export class SseResponse {
  readonly #res: ServerResponse;
  #tail: Promise<void> = Promise.resolve();
  #heartbeat: NodeJS.Timeout | undefined;
  #isClosed = false;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  /** Writes the headers (plus `headers`, e.g. the CSP) and starts the heartbeat. */
  constructor(res: ServerResponse, headers: OutgoingHttpHeaders, heartbeatMs: number) {
    this.#res = res;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    res.writeHead(200, { ...headers, ...SSE_HEADERS });
    res.flushHeaders();
    res.on("close", () => this.#markClosed());
    if (heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => void this.write(": heartbeat\n\n"), heartbeatMs);
      this.#heartbeat.unref();
    }
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Queues `chunk`; resolves once the socket took it (or the stream closed). */
  write(chunk: string): Promise<void> {
    this.#tail = this.#tail.then(
      () =>
        new Promise<void>((resolve) => {
          if (this.#isClosed) return resolve();
          if (this.#res.write(chunk)) return resolve();
          const done = () => {
            this.#res.off("drain", done);
            this.#res.off("close", done);
            resolve();
          };
          this.#res.on("drain", done);
          this.#res.on("close", done);
        }),
    );
    return this.#tail;
  }

  /** Writes `last` (if given) without waiting for drain, then ends the response. */
  end(last?: string): void {
    if (this.#isClosed) return;
    if (last !== undefined) this.#res.write(last);
    this.#res.end();
    this.#markClosed();
  }

  #markClosed(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#resolveClosed();
  }
}
