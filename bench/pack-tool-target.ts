// ABOUTME: The ExecutePackTool round trip as a latency target: an agent stream in the bench process calls `echo` of
// ABOUTME: the example-time pack (a child process) through the gateway and waits for the matching PackToolResult.
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import * as pb from "../src/gen/coven_pb.js";
import { agentStreamMethod } from "./bench-protocol.js";
import type { LatencyTarget } from "./measurements.js";

export interface PackToolCaller {
  target(name: string, pids: Record<string, number>): LatencyTarget;
  close(): void;
}

/** Registers agent `agentId` on the gateway at `grpcAddr` and resolves once its Welcome arrived. */
export async function openPackToolCaller(grpcAddr: string, agentId: string, timeoutMs: number): Promise<PackToolCaller> {
  const client = new grpc.Client(grpcAddr, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(agentStreamMethod.path, agentStreamMethod.requestSerialize, agentStreamMethod.responseDeserialize);
  const waiting = new Map<string, (result: pb.PackToolResult) => void>();
  let welcomed: () => void = () => {};
  const welcome = new Promise<void>((resolve) => (welcomed = resolve));
  call.on("error", () => {});
  call.on("data", (msg: pb.ServerMessage) => {
    if (msg.payload.case === "welcome") welcomed();
    else if (msg.payload.case === "packToolResult") {
      const result = msg.payload.value;
      waiting.get(result.requestId)?.(result);
      waiting.delete(result.requestId);
    }
  });
  call.write(
    create(pb.AgentMessageSchema, {
      payload: {
        case: "register",
        value: { agentId, name: "Bench Tool Caller", capabilities: ["chat"], metadata: { workingDirectory: "/tmp", hostname: "bench", os: "test", backend: "direct" } },
      },
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    welcome,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error("pack tool caller: no Welcome")), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  return {
    target(name, pids) {
      return {
        name,
        pids,
        async roundTrip(i) {
          const requestId = `bench-tool-${i}`;
          const text = `ping ${i}`;
          const result = await new Promise<pb.PackToolResult>((resolve, reject) => {
            const deadline = setTimeout(() => reject(new Error(`${name}: no PackToolResult for ${requestId}`)), timeoutMs);
            waiting.set(requestId, (r) => {
              clearTimeout(deadline);
              resolve(r);
            });
            call.write(
              create(pb.AgentMessageSchema, {
                payload: { case: "executePackTool", value: { requestId, toolName: "echo", inputJson: JSON.stringify({ text }) } },
              }),
            );
          });
          const doneAt = performance.now();
          if (result.result.case !== "outputJson" || result.result.value !== JSON.stringify({ text })) {
            throw new Error(`${name}: bad result for ${requestId}: ${JSON.stringify(result.result)}`);
          }
          return doneAt;
        },
      };
    },
    close() {
      call.end();
      client.close();
    },
  };
}
