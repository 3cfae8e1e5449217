// ABOUTME: A minimal grpc-js agent process for the benchmark: registers, echoes, and streams N chunks on request.
// ABOUTME: Built from the floor's libraries, so a gateway-vs-floor ratio measures the gateway, not the agent's stack.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import * as pb from "../src/gen/coven_pb.js";
import { echoReply } from "../cmd/fake-agent/template.js";
import { agentStreamMethod, chunkText, responseFrame } from "./bench-protocol.js";

const STREAM_REQUEST = /^bench-stream (\d+)$/;

/**
 * Usage: `node lean-agent.js <grpc addr> <agent id>`. Prints `registered as <id>` after Welcome. A message
 * `bench-stream <n>` is answered with n text chunks (`chunkText`) as fast as the stream accepts them, then `done`
 * with the whole text; anything else gets the fake agent's echo reply in one chunk and `done` at once.
 */
async function main(): Promise<void> {
  const [addr, agentId] = process.argv.slice(2);
  if (!addr || !agentId) throw new Error("usage: lean-agent <grpc addr> <agent id>");
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(agentStreamMethod.path, agentStreamMethod.requestSerialize, agentStreamMethod.responseDeserialize);
  const stop = () => {
    call.end();
    client.close();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  call.on("error", (err: Error) => {
    process.stderr.write(`stream error: ${err.message}\n`);
    process.exit(1);
  });
  call.on("end", () => process.exit(0));

  // Frames of concurrent requests share one writer; writes honour the stream's backpressure.
  let draining: Promise<void> | undefined;
  const write = async (msg: pb.AgentMessage): Promise<void> => {
    while (draining) await draining;
    if (call.write(msg)) return;
    draining = new Promise((resolve) =>
      call.once("drain", () => {
        draining = undefined;
        resolve();
      }),
    );
  };

  const answer = async (request: pb.SendMessage): Promise<void> => {
    const match = STREAM_REQUEST.exec(request.content);
    if (match) {
      const n = Number(match[1]);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) {
        parts.push(chunkText(i));
        await write(responseFrame(request.requestId, { case: "text", value: parts[i]! }));
      }
      await write(responseFrame(request.requestId, { case: "done", value: parts.join("") }));
      return;
    }
    const reply = echoReply(request.content);
    await write(responseFrame(request.requestId, { case: "text", value: reply }));
    await write(responseFrame(request.requestId, { case: "done", value: reply }));
  };

  call.on("data", (msg: pb.ServerMessage) => {
    switch (msg.payload.case) {
      case "welcome":
        process.stderr.write(`registered as ${msg.payload.value.agentId}\n`);
        return;
      case "registrationError":
        process.stderr.write(`registration rejected: ${msg.payload.value.reason}\n`);
        process.exit(3);
        return;
      case "sendMessage":
        void answer(msg.payload.value);
        return;
      case "shutdown":
        stop();
        return;
      default:
        return;
    }
  });
  void write(
    create(pb.AgentMessageSchema, {
      payload: {
        case: "register",
        value: { agentId, name: "Lean Bench Agent", capabilities: ["chat"], metadata: { workingDirectory: "/tmp", hostname: "bench", os: "test", backend: "direct" } },
      },
    }),
  );
}

await main();
