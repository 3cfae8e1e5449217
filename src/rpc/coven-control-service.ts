// ABOUTME: The CovenControl service implementation registered on the gRPC server.
// ABOUTME: A thin binding of the AgentStream handler to the generated service descriptor.
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { DescService } from "@bufbuild/protobuf";
import * as pb from "../gen/coven_pb.js";
import type { AgentManager } from "../agent/agent-manager.js";
import { createAgentStreamHandler } from "./agent-stream-handler.js";
import type { RpcAuthenticator } from "./rpc-auth.js";
import type { Logger } from "../lib/logger.js";

/** CovenControl: the agent stream. */
export function createCovenControlService(deps: {
  agents: AgentManager;
  auth: RpcAuthenticator;
  log: Logger;
  maxMessageBytes?: number;
}): {
  service: DescService;
  implementation: UntypedServiceImplementation;
} {
  return {
    service: pb.CovenControl,
    implementation: {
      AgentStream: createAgentStreamHandler({ ...deps, maxMessageBytes: deps.maxMessageBytes ?? 4 * 1024 * 1024 }),
    } as UntypedServiceImplementation,
  };
}
