// ABOUTME: The benchmark's WebSocket side: one `ws` connection per target, counting `run` text events of a streamed
// ABOUTME: turn on the gateway's GET /ws, or the same frames from the bare `ws` floor, with loss and order checks.
import WebSocket from "ws";
import { streamedText } from "./bench-protocol.js";
import { measureRun, type StreamRun } from "./measurements.js";

type Frame = { type: string; event?: string; id?: string; ok?: boolean; payload?: { kind?: string; request_id?: string; data?: { text?: string; full_response?: string } } };

/** One open connection; frames go to the current listener. */
export interface WsBenchClient {
  /** Sends `frame` and calls `onFrame` for each frame until it returns true. */
  exchange(frame: unknown, onFrame: (frame: Frame) => boolean, timeoutMs: number): Promise<void>;
  close(): void;
}

/** Opens `url`; for the gateway (`hello`), waits for `hello-ok` first. */
export async function openWsBenchClient(url: string, options: { hello: boolean }): Promise<WsBenchClient> {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let listener: ((frame: Frame) => void) | undefined;
  socket.on("message", (data) => listener?.(JSON.parse(data.toString()) as Frame));
  const client: WsBenchClient = {
    exchange(frame, onFrame, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`ws bench exchange timed out after ${timeoutMs} ms`)), timeoutMs);
        socket.once("close", (code) => reject(new Error(`ws closed ${code}`)));
        listener = (f) => {
          if (onFrame(f)) {
            clearTimeout(timer);
            listener = undefined;
            resolve();
          }
        };
        socket.send(JSON.stringify(frame));
      });
    },
    close: () => socket.close(1000),
  };
  if (options.hello) {
    const hello = { type: "hello", min_protocol: 1, max_protocol: 1, client: { name: "bench", version: "1" } };
    await client.exchange(hello, (f) => {
      if (f.type === "hello-error") throw new Error(`hello refused: ${JSON.stringify(f)}`);
      return f.type === "hello-ok";
    }, 10_000);
  }
  return client;
}

let nextKey = 0;

/**
 * One `send` whose agent streams `n` chunks (`bench-stream <n>`), counted as WS `run` text events. Throws unless
 * exactly `n` text events arrived whose concatenation, and `done.full_response`, equal the scripted text.
 */
export async function gatewayWsStreamRun(client: WsBenchClient, agentId: string, n: number, pids: Record<string, number>, timeoutMs: number): Promise<StreamRun> {
  nextKey += 1;
  const req = { type: "req", id: `b${nextKey}`, method: "send", params: { content: `bench-stream ${n}`, idempotency_key: `bench-${process.pid}-${nextKey}-${Date.now()}`, agent_id: agentId } };
  return measureRun(n, pids, async () => {
    const parts: string[] = [];
    let done: string | undefined;
    let terminal = "";
    await client.exchange(req, (f) => {
      if (f.type === "res" && f.ok === false) throw new Error(`send refused: ${JSON.stringify(f)}`);
      if (f.type !== "event" || f.event !== "run") return false;
      const kind = f.payload?.kind;
      if (kind === "text") parts.push(f.payload?.data?.text ?? "");
      else if (kind === "done" || kind === "error" || kind === "canceled") {
        terminal = kind;
        done = f.payload?.data?.full_response;
        return true;
      }
      return false;
    }, timeoutMs);
    checkStream("gateway ws", n, parts, terminal, done);
  });
}

/** The same N frames from the bare `ws` floor (bench/floor-server.ts `/ws-floor`), with the same checks. */
export async function floorWsStreamRun(client: WsBenchClient, n: number, pids: Record<string, number>, timeoutMs: number): Promise<StreamRun> {
  return measureRun(n, pids, async () => {
    const parts: string[] = [];
    let done: string | undefined;
    let terminal = "";
    await client.exchange({ n }, (f) => {
      const kind = f.payload?.kind;
      if (kind === "text") parts.push(f.payload?.data?.text ?? "");
      else if (kind === "done") {
        terminal = kind;
        done = f.payload?.data?.full_response;
        return true;
      }
      return false;
    }, timeoutMs);
    checkStream("ws floor", n, parts, terminal, done);
  });
}

function checkStream(who: string, n: number, parts: string[], terminal: string, done: string | undefined): void {
  const expected = streamedText(n);
  if (terminal !== "done") throw new Error(`${who} stream ended with '${terminal}' after ${parts.length} chunks`);
  if (parts.length !== n) throw new Error(`${who} stream lost chunks: ${parts.length} of ${n} arrived`);
  if (parts.join("") !== expected) throw new Error(`${who} stream text differs from the scripted text`);
  if (done !== expected) throw new Error(`${who} stream done.full_response differs from the scripted text`);
}
