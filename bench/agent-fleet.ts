// ABOUTME: A child process holding N grpc-js agents, each on its own HTTP/2 connection, answering every send with
// ABOUTME: the fake agent's echo in one text chunk and `done`. Serves the gateway and the relay floor alike.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import * as pb from "../src/gen/coven_pb.js";
import { echoReply } from "../cmd/fake-agent/template.js";
import { agentStreamMethod, responseFrame } from "./bench-protocol.js";

/**
 * How many agents open their streams at once while connecting, so a large fleet does not stampede the server: the
 * gateway's HTTP/2 keepalive (ping every 15 s, 5 s to answer) drops connections whose process is starved that long.
 */
const CONNECT_BATCH = 100;

type Call = grpc.ClientDuplexStream<pb.AgentMessage, pb.ServerMessage>;

/**
 * One agent: its own grpc.Client with a local subchannel pool (so its own TCP connection), one AgentStream, echo
 * answers. Resolves once Welcome arrived; rejects on a registration error or a stream error before it.
 */
function connectAgent(addr: string, agentId: string, live: Set<{ call: Call; client: grpc.Client }>): Promise<void> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
  const call: Call = client.makeBidiStreamRequest(agentStreamMethod.path, agentStreamMethod.requestSerialize, agentStreamMethod.responseDeserialize);
  const entry = { call, client };
  live.add(entry);
  return new Promise((resolve, reject) => {
    let welcomed = false;
    call.on("error", (err: Error) => {
      if (!welcomed) reject(new Error(`${agentId}: ${err.message}`));
      else if (!stopping) {
        process.stderr.write(`${agentId}: stream error: ${err.message}\n`);
        process.exit(1);
      }
    });
    call.on("end", () => {
      if (!stopping) {
        process.stderr.write(`${agentId}: stream ended by the server\n`);
        process.exit(1);
      }
    });
    call.on("data", (msg: pb.ServerMessage) => {
      switch (msg.payload.case) {
        case "welcome":
          welcomed = true;
          resolve();
          return;
        case "registrationError":
          reject(new Error(`${agentId}: registration rejected: ${msg.payload.value.reason}`));
          return;
        case "sendMessage": {
          const request = msg.payload.value;
          const reply = echoReply(request.content);
          call.write(responseFrame(request.requestId, { case: "text", value: reply }));
          call.write(responseFrame(request.requestId, { case: "done", value: reply }));
          return;
        }
        default:
          return;
      }
    });
    call.write(
      create(pb.AgentMessageSchema, {
        payload: {
          case: "register",
          value: { agentId, name: agentId, capabilities: ["chat"], metadata: { workingDirectory: "/tmp", hostname: "bench", os: "test", backend: "direct" } },
        },
      }),
    );
  });
}

let stopping = false;

/**
 * Usage: `node agent-fleet.js <grpc addr> <id prefix> <count>`: agents `<prefix>-0` … `<prefix>-<count-1>`. Prints
 * `fleet registered <count>` once every agent has its Welcome; SIGTERM ends every stream and exits 0.
 */
async function main(): Promise<void> {
  const [addr, prefix, countArg] = process.argv.slice(2);
  const count = Number(countArg);
  if (!addr || !prefix || !Number.isInteger(count) || count < 1) throw new Error("usage: agent-fleet <grpc addr> <id prefix> <count>");
  const live = new Set<{ call: Call; client: grpc.Client }>();
  const stop = () => {
    stopping = true;
    for (const { call, client } of live) {
      call.end();
      client.close();
    }
    setTimeout(() => process.exit(0), 300).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  for (let i = 0; i < count; i += CONNECT_BATCH) {
    const batch: Promise<void>[] = [];
    for (let k = i; k < Math.min(count, i + CONNECT_BATCH); k++) batch.push(connectAgent(addr, `${prefix}-${k}`, live));
    await Promise.all(batch);
  }
  process.stdout.write(`fleet registered ${count}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`agent-fleet: ${(err as Error).message}\n`);
  process.exit(2);
}
