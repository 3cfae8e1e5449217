// ABOUTME: The grpc-js handler of CovenControl.AgentStream: auth first, headers at once, then frames to the domain.
// ABOUTME: Implements the domain's AgentStreamIo over the duplex call (drain-aware writes, pause/resume, status end).
import { Metadata, type ServerDuplexStream } from "@grpc/grpc-js";
import type * as pb from "../gen/coven_pb.js";
import type { AgentManager } from "../agent/agent-manager.js";
import type { AgentStreamIo, OutboundFrame, StreamEnd } from "../agent/agent-frames.js";
import { decodeAgentMessage, encodeServerMessage } from "./agent-codec.js";
import { grpcStatusOf, toGrpcError } from "./status-map.js";
import type { RpcAuthenticator } from "./rpc-auth.js";
import type { Logger } from "../lib/logger.js";

/** Builds the AgentStream handler bound to the agent manager and the authentication hook. */
export function createAgentStreamHandler(deps: { agents: AgentManager; auth: RpcAuthenticator; log: Logger }) {
  return function agentStream(call: ServerDuplexStream<pb.AgentMessage, pb.ServerMessage>): void {
    const peer = call.getPeer();
    deps.auth
      .authenticate({ metadata: call.metadata, peer, path: "/coven.CovenControl/AgentStream", kind: "agent_stream" })
      .then(
        (principal) => serve(call, peer, principal, deps),
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
  deps: { agents: AgentManager; log: Logger },
): void {
  call.sendMetadata(new Metadata());
  let ended = false;
  const io: AgentStreamIo = {
    peer,
    write(frame: OutboundFrame): Promise<void> {
      return new Promise((resolve, reject) => {
        if (ended || call.writableEnded || call.destroyed) {
          reject(new Error("stream closed"));
          return;
        }
        call.write(encodeServerMessage(frame), (err?: Error | null) => (err ? reject(err) : resolve()));
      });
    },
    pause: () => call.pause(),
    resume: () => call.resume(),
    end(status: StreamEnd): void {
      if (ended) return;
      ended = true;
      if (call.writableEnded || call.destroyed) return;
      if (status.code === "OK") call.end();
      else call.emit("error", { code: grpcStatusOf(status.code), details: status.message, message: status.message });
    },
  };
  const session = deps.agents.openSession(io, principal);
  call.on("data", (message: pb.AgentMessage) => session.receive(decodeAgentMessage(message)));
  call.on("end", () => session.endOfInput());
  call.on("error", (err: unknown) => {
    if (!ended) session.receiveError(err);
  });
  call.on("cancelled", () => session.cancelled());
}
