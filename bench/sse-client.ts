// ABOUTME: A lean SSE client over node:http for the benchmark: POST a JSON body, parse frames as they arrive.
// ABOUTME: One keep-alive socket, frames handed to a callback, no buffering of the whole stream unless asked.
import { Agent, request } from "node:http";

/** One parsed SSE frame: its `event:` name and its `data:` payload (one line, as the gateway writes it). */
export interface SseFrame {
  event: string;
  data: string;
}

/** A keep-alive HTTP client for sequential SSE requests against one server. */
export interface SseClient {
  /**
   * POSTs `body` to `path` and calls `onFrame` for every frame until the server ends the response. Rejects on a
   * non-200 status, a non-SSE response, a socket error, or after `timeoutMs`.
   */
  post(path: string, body: unknown, onFrame: (frame: SseFrame) => void, timeoutMs: number): Promise<void>;
  close(): void;
}

/** Creates a client for `baseUrl` (`http://host:port`) with a single keep-alive socket. */
export function createSseClient(baseUrl: string): SseClient {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    post(path, body, onFrame, timeoutMs) {
      const payload = JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path,
            method: "POST",
            headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
          },
          (res) => {
            const type = res.headers["content-type"] ?? "";
            if (res.statusCode !== 200 || !type.startsWith("text/event-stream")) {
              let text = "";
              res.setEncoding("utf8");
              res.on("data", (part: string) => (text += part));
              res.on("end", () => fail(new Error(`POST ${path}: ${res.statusCode} ${type}: ${text}`)));
              return;
            }
            res.setEncoding("utf8");
            let pending = "";
            res.on("data", (part: string) => {
              pending += part;
              let start = 0;
              let end: number;
              while ((end = pending.indexOf("\n\n", start)) >= 0) {
                const block = pending.slice(start, end);
                start = end + 2;
                if (block.startsWith(":")) continue;
                onFrame(parseBlock(block));
              }
              pending = pending.slice(start);
            });
            res.on("end", () => {
              clearTimeout(timer);
              resolve();
            });
            res.on("error", fail);
          },
        );
        const timer = setTimeout(() => fail(new Error(`POST ${path}: no end within ${timeoutMs} ms`)), timeoutMs);
        function fail(err: Error): void {
          clearTimeout(timer);
          req.destroy();
          reject(err);
        }
        req.on("error", fail);
        req.end(payload);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

function parseBlock(block: string): SseFrame {
  let event = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  return { event, data };
}
