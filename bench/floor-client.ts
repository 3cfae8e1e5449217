// ABOUTME: The benchmark's grpc-js client of the floor service: ping-pong round trips and the N-chunk stream.
// ABOUTME: The ping-pong uses one long-lived bidi stream, like an agent stream, and one message each way.
import * as grpc from "@grpc/grpc-js";
import type * as pb from "../src/gen/coven_pb.js";
import { floorService, sendMessageFrame } from "./bench-protocol.js";

/** A connected floor client. */
export interface FloorClient {
  /** One `send_message` out and its `done` back on the shared bidi stream. */
  pingPong(i: number): Promise<void>;
  /** Asks for `n` chunks and reads them all; resolves with what arrived. */
  stream(n: number, timeoutMs: number): Promise<{ chunks: number; text: string; sawDone: boolean }>;
  close(): void;
}

/** Connects to the floor gRPC server at `addr` (`host:port`) and opens the ping-pong stream. */
export function createFloorClient(addr: string): FloorClient {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  const { pingPong, stream } = floorService;
  const duplex = client.makeBidiStreamRequest(pingPong.path, pingPong.requestSerialize, pingPong.responseDeserialize);
  let waiting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  duplex.on("data", () => {
    const w = waiting;
    waiting = undefined;
    w?.resolve();
  });
  duplex.on("error", (err: Error) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(err);
  });

  return {
    pingPong(i) {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        duplex.write(sendMessageFrame(`ping-${i}`, "ping"));
      });
    },
    stream(n, timeoutMs) {
      return new Promise((resolve, reject) => {
        const call = client.makeServerStreamRequest(stream.path, stream.requestSerialize, stream.responseDeserialize, sendMessageFrame("stream", String(n)), {
          deadline: Date.now() + timeoutMs,
        });
        const parts: string[] = [];
        let sawDone = false;
        call.on("data", (msg: pb.AgentMessage) => {
          if (msg.payload.case !== "response") return;
          const event = msg.payload.value.event;
          if (event.case === "text") parts.push(event.value);
          else if (event.case === "done") sawDone = true;
        });
        call.on("error", reject);
        call.on("end", () => resolve({ chunks: parts.length, text: parts.join(""), sawDone }));
      });
    },
    close() {
      duplex.end();
      duplex.cancel();
      client.close();
    },
  };
}
