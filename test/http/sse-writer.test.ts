// ABOUTME: The SSE TurnSink on a real ServerResponse: waiting for start, discard, one terminal, a client gone
// ABOUTME: before start, and a stalled write (client not reading) that marks the client gone without leaks.
import { createServer, request as httpRequest, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SseRegistry } from "../../src/http/sse-channel.js";
import { SseTurnWriter } from "../../src/http/sse-writer.js";

const STARTED = { messageId: "m1", requestId: "r1", threadId: "t1" };

let server: Server | undefined;
let socket: Socket | undefined;
afterEach(async () => {
  socket?.destroy();
  socket = undefined;
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A real server whose next response is handed to the test; `port` is its listening port. */
async function nextResponse(): Promise<{ port: number; response: Promise<ServerResponse> }> {
  let resolveResponse!: (res: ServerResponse) => void;
  const response = new Promise<ServerResponse>((resolve) => {
    resolveResponse = resolve;
  });
  server = createServer((_req, res) => resolveResponse(res));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return { port: address.port, response };
}

function readAll(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

function writer(gone: string[], registry?: SseRegistry, stallMs = 30_000): SseTurnWriter {
  return new SseTurnWriter({
    heartbeatIntervalMs: 60_000,
    writeStallTimeoutMs: stallMs,
    registry,
    onClientGone: (requestId) => gone.push(requestId),
  });
}

describe("SseTurnWriter", () => {
  it("holds deliveries made before start and writes them after started, in order", async () => {
    const { port, response } = await nextResponse();
    const body = readAll(port);
    const sink = writer([]);
    const deliveries = [
      sink.deliver({ kind: "text", text: "a" }),
      sink.deliver({ kind: "text", text: "b" }),
      sink.deliver({ kind: "done", fullResponse: "ab", origin: "agent" }),
    ];
    let settled = false;
    void Promise.all(deliveries).then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    sink.start(await response, { "content-security-policy": "x" }, STARTED);
    await Promise.all(deliveries);
    expect(await body).toBe(
      'event: started\ndata: {"message_id":"m1","request_id":"r1","thread_id":"t1"}\n\n' +
        'event: text\ndata: {"text":"a"}\n\n' +
        'event: text\ndata: {"text":"b"}\n\n' +
        'event: done\ndata: {"full_response":"ab"}\n\n',
    );
    await sink.settled;
  });

  it("writes exactly one terminal event and ignores everything after it", async () => {
    const { port, response } = await nextResponse();
    const body = readAll(port);
    const gone: string[] = [];
    const sink = writer(gone);
    sink.start(await response, {}, STARTED);
    await sink.deliver({ kind: "error", error: "boom", origin: "agent" });
    await sink.deliver({ kind: "done", fullResponse: "late", origin: "agent" });
    await sink.deliver({ kind: "text", text: "late" });
    expect((await body).split("event: ").length - 1).toBe(2);
    expect(await body).toContain('event: error\ndata: {"error":"boom"}\n\n');
    expect(gone).toEqual([]);
  });

  it("resolves deliveries at once after discard, where before it they wait for start", async () => {
    /** "resolved" when `promise` settles within the current turn of the event loop, else "pending". */
    const state = (promise: Promise<unknown>) =>
      Promise.race([promise.then(() => "resolved"), new Promise((resolve) => setImmediate(() => resolve("pending")))]);
    const waiting = writer([]);
    const early = waiting.deliver({ kind: "text", text: "x" });
    expect(await state(early)).toBe("pending");
    waiting.discard();
    expect(await state(early)).toBe("resolved");
    const sink = writer([]);
    sink.discard();
    expect(await state(sink.deliver({ kind: "text", text: "x" }))).toBe("resolved");
    expect(await state(sink.deliver({ kind: "done", fullResponse: "", origin: "agent" }))).toBe("resolved");
    expect(await state(sink.settled)).toBe("resolved");
  });

  it("reports a client that left before start as gone", async () => {
    const { port, response } = await nextResponse();
    socket = connect(port, "127.0.0.1");
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const res = await response;
    const closed = new Promise((resolve) => res.once("close", resolve));
    socket.destroy();
    await closed;
    const gone: string[] = [];
    const registry = new SseRegistry();
    const sink = writer(gone, registry);
    sink.start(res, {}, STARTED);
    expect(gone).toEqual(["r1"]);
    await sink.deliver({ kind: "text", text: "x" });
    expect(registry.size).toBe(0);
  });

  it("marks the client gone when a write cannot drain within the stall timeout", async () => {
    const { port, response } = await nextResponse();
    socket = connect(port, "127.0.0.1");
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    socket.pause();
    const res = await response;
    const gone: string[] = [];
    const registry = new SseRegistry();
    const sink = writer(gone, registry, 100);
    sink.start(res, {}, STARTED);
    expect(registry.size).toBe(1);
    const chunk = "x".repeat(1024 * 1024);
    let writes = 0;
    while (gone.length === 0 && writes < 256) {
      await sink.deliver({ kind: "text", text: chunk });
      writes += 1;
    }
    expect(gone).toEqual(["r1"]);
    expect(res.destroyed).toBe(true);
    expect(registry.size).toBe(0);
    expect(res.listenerCount("drain")).toBe(0);
    const started = Date.now();
    await sink.deliver({ kind: "text", text: chunk });
    await sink.deliver({ kind: "done", fullResponse: "", origin: "agent" });
    expect(Date.now() - started).toBeLessThan(50);
    await sink.settled;
  });
});
