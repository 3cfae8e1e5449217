// ABOUTME: A minimal HTTP client for SSE tests over a real socket: collects the raw body and parses frames.
// ABOUTME: Lets a test read incrementally, wait for a frame, or drop the connection mid-stream.
import { request as httpRequest, type IncomingHttpHeaders, type ClientRequest } from "node:http";

export interface SseFrame {
  event: string | undefined;
  data: string | undefined;
  comment: string | undefined;
}

export interface SseResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Everything received so far. */
  text(): string;
  /** Every complete frame received so far (comments included). */
  frames(): SseFrame[];
  /** Complete event frames only, with parsed data. */
  events(): Array<{ event: string; data: unknown; raw: string }>;
  /** Resolves once `predicate` holds for the frames received. */
  waitFor(predicate: (frames: SseFrame[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves with the whole body when the server ends the response. */
  ended: Promise<string>;
  /** Drops the connection. */
  destroy(): void;
}

/** Sends a request and resolves when the response headers arrived. */
export function openSse(
  baseUrl: string,
  path: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<SseResponse> {
  const url = new URL(path, baseUrl);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req: ClientRequest = httpRequest(url, {
      method: options.method ?? "POST",
      headers: { ...(payload === undefined ? {} : { "content-length": Buffer.byteLength(payload) }), ...options.headers },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      let body = "";
      const listeners = new Set<() => void>();
      res.setEncoding("utf8");
      const ended = new Promise<string>((resolveEnd, rejectEnd) => {
        res.on("end", () => resolveEnd(body));
        res.on("error", rejectEnd);
        res.on("aborted", () => rejectEnd(new Error("response aborted")));
      });
      ended.catch(() => {});
      res.on("data", (chunk: string) => {
        body += chunk;
        for (const listener of [...listeners]) listener();
      });
      const frames = () => parseFrames(body);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => body,
        frames,
        events: () =>
          frames()
            .filter((f) => f.event !== undefined)
            .map((f) => ({ event: f.event as string, data: JSON.parse(f.data ?? "null") as unknown, raw: f.data ?? "" })),
        waitFor(predicate, timeoutMs = 5_000) {
          if (predicate(frames())) return Promise.resolve();
          return new Promise((resolveWait, rejectWait) => {
            const timer = setTimeout(() => {
              listeners.delete(check);
              rejectWait(new Error(`timed out waiting for SSE frames; got ${JSON.stringify(body)}`));
            }, timeoutMs);
            const check = () => {
              if (!predicate(frames())) return;
              clearTimeout(timer);
              listeners.delete(check);
              resolveWait();
            };
            listeners.add(check);
          });
        },
        ended,
        destroy: () => {
          req.destroy();
          res.destroy();
        },
      });
    });
    req.end(payload);
  });
}

/** Splits a body into complete frames (`\n\n`-terminated). */
export function parseFrames(body: string): SseFrame[] {
  const parts = body.split("\n\n");
  parts.pop();
  return parts.map((part) => {
    const frame: SseFrame = { event: undefined, data: undefined, comment: undefined };
    for (const line of part.split("\n")) {
      if (line.startsWith("event: ")) frame.event = line.slice(7);
      else if (line.startsWith("data: ")) frame.data = line.slice(6);
      else if (line.startsWith(": ")) frame.comment = line.slice(2);
    }
    return frame;
  });
}
