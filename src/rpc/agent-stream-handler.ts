// ABOUTME: The grpc-js handler of CovenControl.AgentStream: auth first, headers at once, then frames to the domain.
// ABOUTME: Implements the domain's AgentStreamIo over the duplex call (drain-aware writes, pause/resume, status end).
import { Metadata, type ServerDuplexStream } from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import * as pb from "../gen/coven_pb.js";
import type { AgentManager } from "../agent/agent-manager.js";
import type { AgentStreamIo, OutboundFrame, StreamEnd } from "../agent/agent-frames.js";
import { decodeAgentMessage, encodeServerMessage } from "./agent-codec.js";
import { DecodeFailure } from "./service-definition.js";
import { grpcStatusOf, toGrpcError } from "./status-map.js";
import { GatewayError } from "../lib/gateway-error.js";
import { authenticateCall, type RpcAuthenticator } from "./rpc-auth.js";
import type { Logger } from "../lib/logger.js";

/** Builds the AgentStream handler bound to the agent manager and the authentication hook. */
export function createAgentStreamHandler(deps: {
  agents: AgentManager;
  auth: RpcAuthenticator;
  log: Logger;
  /** The send limit of the server; a larger frame is refused before it reaches grpc-js. */
  maxMessageBytes: number;
}) {
  return function agentStream(call: ServerDuplexStream<pb.AgentMessage, pb.ServerMessage>): void {
    const peer = call.getPeer();
    authenticateCall(deps.auth, { metadata: call.metadata, peer, path: "/coven.CovenControl/AgentStream", kind: "agent_stream" })
      .then(
        (principal) => {
          // The client may have given up while authentication ran; a session opened now would never end.
          if (call.cancelled) return;
          serve(call, peer, principal, deps);
        },
        (err: unknown) => {
          // No headers were sent yet, so grpc-js answers trailers-only: tonic sees the status on the call itself.
          call.emit("error", toGrpcError(err, deps.log, { peer }));
        },
      );
  };
}

function serve(
  call: ServerDuplexStream<pb.AgentMessage, pb.ServerMessage>,
  peer: string,
  principal: { id: string; isAnonymous: boolean },
  deps: { agents: AgentManager; log: Logger; maxMessageBytes: number },
): void {
  call.sendMetadata(new Metadata());
  let ended = false;
  // grpc-js never calls a write's callback once the call is over, so pending writes are settled here instead.
  const pending = new Set<(err: Error) => void>();
  const failPending = () => {
    for (const reject of [...pending]) reject(new Error("stream closed"));
  };
  const io: AgentStreamIo = {
    peer,
    write(frame: OutboundFrame): Promise<void> {
      return new Promise((resolve, reject) => {
        if (ended || call.writableEnded || call.destroyed || call.cancelled) {
          reject(new Error("stream closed"));
          return;
        }
        const bytes = toBinary(pb.ServerMessageSchema, encodeServerMessage(frame));
        if (bytes.byteLength > deps.maxMessageBytes) {
          // grpc-js would end the whole stream and never settle this write; refuse the one frame instead.
          reject(
            new GatewayError(
              "RESOURCE_EXHAUSTED",
              `message too large for the agent stream (${bytes.byteLength} bytes, limit ${deps.maxMessageBytes})`,
            ),
          );
          return;
        }
        const settle = (err?: Error | null) => {
          pending.delete(settle);
          if (err) reject(err);
          else resolve();
        };
        pending.add(settle);
        // The service definition's serializer passes already-encoded bytes through unchanged.
        call.write(bytes as unknown as pb.ServerMessage, settle);
      });
    },
    pause: () => call.pause(),
    resume: () => call.resume(),
    end(status: StreamEnd): void {
      if (ended) return;
      ended = true;
      failPending();
      if (call.writableEnded || call.destroyed) return;
      if (status.code === "OK") call.end();
      else call.emit("error", { code: grpcStatusOf(status.code), details: status.message, message: status.message });
    },
  };
  const session = deps.agents.openSession(io, principal);
  call.on("data", (message: pb.AgentMessage | DecodeFailure) => {
    if (message instanceof DecodeFailure) session.receiveError(message.cause);
    else session.receive(decodeAgentMessage(message));
  });
  // grpc-js ends the read side of a call whose connection died ('end') and only then reports 'cancelled', in the
  // same tick; deciding one macrotask later tells a real half-close from a killed agent, so the log names the cause.
  let cancelled = false;
  call.on("end", () => {
    setImmediate(() => {
      if (!cancelled) session.endOfInput();
    });
  });
  call.on("error", (err: unknown) => {
    if (!ended) session.receiveError(err);
  });
  call.on("cancelled", () => {
    cancelled = true;
    failPending();
    session.cancelled();
  });
}
