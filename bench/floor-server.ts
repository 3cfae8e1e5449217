// ABOUTME: The floor process: a bare node:http SSE echo server, a bare `ws` stream server and a bare grpc-js server.
// ABOUTME: Run as a child of run-bench; prints `floor listening http=<addr> grpc=<addr>` and serves until SIGTERM.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { WebSocketServer, type WebSocket } from "ws";
import type * as pb from "../src/gen/coven_pb.js";
import { echoReply } from "../cmd/fake-agent/template.js";
import { chunkText, floorService, responseFrame } from "./bench-protocol.js";

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" };

function sseFrame(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** POST /api/send -> `started`, one `text` with the fake agent's echo reply, `done`: the gateway's response shape. */
function handleSend(request: IncomingMessage, response: ServerResponse): void {
  const parts: Buffer[] = [];
  request.on("data", (part: Buffer) => parts.push(part));
  request.on("end", () => {
    const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { content: string };
    const reply = echoReply(body.content);
    response.writeHead(200, SSE_HEADERS);
    response.write(sseFrame("started", { message_id: "m", request_id: "r", thread_id: "t" }));
    response.write(sseFrame("text", { text: reply }));
    response.end(sseFrame("done", { full_response: reply }));
  });
}

function pingPong(call: grpc.ServerDuplexStream<pb.ServerMessage, pb.AgentMessage>): void {
  call.on("data", (msg: pb.ServerMessage) => {
    const requestId = msg.payload.case === "sendMessage" ? msg.payload.value.requestId : "";
    call.write(responseFrame(requestId, { case: "done", value: "pong" }));
  });
  call.on("end", () => call.end());
  call.on("error", () => call.end());
}

/** Writes N text chunks as fast as the stream accepts them (honouring backpressure), then `done`. */
function stream(call: grpc.ServerWritableStream<pb.ServerMessage, pb.AgentMessage>): void {
  const msg = call.request;
  const requestId = msg.payload.case === "sendMessage" ? msg.payload.value.requestId : "";
  const n = msg.payload.case === "sendMessage" ? Number(msg.payload.value.content) : 0;
  let i = 0;
  let cancelled = false;
  call.on("cancelled", () => (cancelled = true));
  const pump = () => {
    while (i < n && !cancelled) {
      const accepted = call.write(responseFrame(requestId, { case: "text", value: chunkText(i++) }));
      if (!accepted) {
        call.once("drain", pump);
        return;
      }
    }
    if (!cancelled) {
      call.write(responseFrame(requestId, { case: "done", value: "" }));
      call.end();
    }
  };
  pump();
}

const WS_HIGH_WATER = 1024 * 1024;

/**
 * `/ws-floor`: on `{"n":N}`, N `run` text events shaped like the gateway's (same chunk text), then `done`, written as
 * fast as the socket drains (the gateway's buffer limit), over a bare `ws` server.
 */
function wsStream(socket: WebSocket, raw: import("node:net").Socket): void {
  socket.on("message", (data) => {
    const n = Number((JSON.parse(data.toString()) as { n: number }).n);
    let i = 0;
    let seq = 0;
    const frame = (kind: string, payload: Record<string, unknown>) =>
      JSON.stringify({ type: "event", event: "run", seq: ++seq, payload: { request_id: "r", kind, data: payload } });
    const pump = () => {
      while (i < n) {
        if (socket.bufferedAmount > WS_HIGH_WATER) {
          raw.once("drain", pump);
          return;
        }
        socket.send(frame("text", { text: chunkText(i++) }));
      }
      let full = "";
      for (let k = 0; k < n; k++) full += chunkText(k);
      socket.send(frame("done", { full_response: full }));
    };
    pump();
  });
}

async function main(): Promise<void> {
  const http = createServer((request, response) => {
    if (request.method === "POST" && request.url === "/api/send") return handleSend(request, response);
    response.writeHead(404).end();
  });
  // fastify's default, so neither side of a comparison reconnects between rounds.
  http.keepAliveTimeout = 72_000;
  const wss = new WebSocketServer({ server: http, path: "/ws-floor", perMessageDeflate: false });
  wss.on("connection", (socket, request) => wsStream(socket, request.socket));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const httpPort = (http.address() as AddressInfo).port;

  const server = new grpc.Server();
  server.addService(floorService, { PingPong: pingPong, Stream: stream } as grpc.UntypedServiceImplementation);
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );

  const stop = () => {
    server.forceShutdown();
    http.closeAllConnections();
    http.close(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  process.stdout.write(`floor listening http=127.0.0.1:${httpPort} grpc=127.0.0.1:${grpcPort}\n`);
}

await main();
