// ABOUTME: The persisted-throughput floor: node:http POST /api/send relayed over one grpc-js AgentStream per agent,
// ABOUTME: SSE back, and better-sqlite3 (WAL, synchronous=NORMAL) committing the user message and the reply.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import * as pb from "../src/gen/coven_pb.js";
import { agentStreamMethod } from "./bench-protocol.js";

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" };
const frame = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/** The gateway's AgentStream as the server implements it (agent messages in, server messages out). */
const agentStreamService = {
  AgentStream: {
    path: agentStreamMethod.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: agentStreamMethod.requestSerialize,
    requestDeserialize: agentStreamMethod.requestDeserialize,
    responseSerialize: agentStreamMethod.responseSerialize,
    responseDeserialize: agentStreamMethod.responseDeserialize,
  },
} satisfies grpc.ServiceDefinition;

interface Pending {
  response: ServerResponse;
  agentId: string;
}

/**
 * Usage: `node relay-floor.js <sqlite path>`. Prints `relay listening http=<addr> grpc=<addr>`. Each turn: one
 * INSERT of the user message (autocommit), `started`, `send_message` to the agent's stream, each `text` relayed as an
 * SSE frame, on `done` one INSERT of the reply, then the `done` frame. Nothing else: the least a persisted relay does.
 */
async function main(): Promise<void> {
  const [dbPath] = process.argv.slice(2);
  if (!dbPath) throw new Error("usage: relay-floor <sqlite path>");
  const db = new Database(dbPath);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(
    "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, request_id TEXT NOT NULL, " +
      "agent_id TEXT NOT NULL, direction TEXT NOT NULL, author TEXT NOT NULL, timestamp TEXT NOT NULL, text TEXT NOT NULL)",
  );
  const insert = db.prepare("INSERT INTO messages (id, request_id, agent_id, direction, author, timestamp, text) VALUES (?, ?, ?, ?, ?, ?, ?)");

  const agents = new Map<string, grpc.ServerDuplexStream<pb.AgentMessage, pb.ServerMessage>>();
  const pending = new Map<string, Pending>();

  const agentStream = (call: grpc.ServerDuplexStream<pb.AgentMessage, pb.ServerMessage>) => {
    let agentId = "";
    call.on("data", (msg: pb.AgentMessage) => {
      if (msg.payload.case === "register") {
        agentId = msg.payload.value.agentId;
        agents.set(agentId, call);
        call.write(create(pb.ServerMessageSchema, { payload: { case: "welcome", value: { serverId: "relay", agentId, instanceId: agentId } } }));
        return;
      }
      if (msg.payload.case !== "response") return;
      const { requestId, event } = msg.payload.value;
      const turn = pending.get(requestId);
      if (turn === undefined) return;
      if (event.case === "text") turn.response.write(frame("text", { text: event.value }));
      else if (event.case === "done") {
        const full = event.value.fullResponse;
        insert.run(randomUUID(), requestId, turn.agentId, "outbound_from_agent", turn.agentId, new Date().toISOString(), full);
        pending.delete(requestId);
        turn.response.end(frame("done", { full_response: full }));
      }
    });
    const gone = () => {
      if (agents.get(agentId) === call) agents.delete(agentId);
    };
    call.on("end", () => {
      gone();
      call.end();
    });
    call.on("error", gone);
  };

  const send = (request: IncomingMessage, response: ServerResponse) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { agent_id: string; sender: string; content: string };
      const agent = agents.get(body.agent_id);
      if (agent === undefined) {
        response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "agent not found" }));
        return;
      }
      const requestId = randomUUID();
      const messageId = randomUUID();
      insert.run(messageId, requestId, body.agent_id, "inbound_to_agent", body.sender, new Date().toISOString(), body.content);
      pending.set(requestId, { response, agentId: body.agent_id });
      response.on("close", () => pending.delete(requestId));
      response.writeHead(200, SSE_HEADERS);
      response.write(frame("started", { message_id: messageId, request_id: requestId, thread_id: body.agent_id }));
      agent.write(
        create(pb.ServerMessageSchema, {
          payload: { case: "sendMessage", value: { requestId, threadId: body.agent_id, sender: body.sender, content: body.content } },
        }),
      );
    });
  };

  const http = createServer((request, response) => {
    if (request.method === "POST" && request.url === "/api/send") return send(request, response);
    response.writeHead(404).end();
  });
  http.keepAliveTimeout = 72_000;
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const server = new grpc.Server();
  server.addService(agentStreamService, { AgentStream: agentStream } as grpc.UntypedServiceImplementation);
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  const stop = () => {
    server.forceShutdown();
    http.closeAllConnections();
    http.close(() => {
      db.close();
      process.exit(0);
    });
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  process.stdout.write(`relay listening http=127.0.0.1:${(http.address() as AddressInfo).port} grpc=127.0.0.1:${grpcPort}\n`);
}

await main();
