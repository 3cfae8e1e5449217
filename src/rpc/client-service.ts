// ABOUTME: coven.ClientService on the gRPC server, composed from handler sets; this file provides the identity
// ABOUTME: RPCs (GetMe, RegisterAgent, RegisterClient). Methods no set implements authenticate, then UNIMPLEMENTED.
import { create } from "@bufbuild/protobuf";
import type { DescService } from "@bufbuild/protobuf";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { IdentityService } from "../auth/identity-service.js";
import * as pb from "../gen/coven_pb.js";
import type { Logger } from "../lib/logger.js";
import { encodeMe } from "./identity-codec.js";
import type { RpcAuthenticator } from "./rpc-auth.js";
import { authenticatedUnary, composeService, methodPath, type RpcHandlerFactory } from "./rpc-handlers.js";

/** GetMe, RegisterAgent and RegisterClient (services.md §3, auth.md §13). */
export function clientIdentityHandlers(identity: IdentityService): RpcHandlerFactory {
  const path = (name: string) => methodPath(pb.ClientService, name);
  return (deps) => ({
    GetMe: authenticatedUnary<unknown, pb.MeResponse>(deps, path("GetMe"), async (_req, caller) => encodeMe(await identity.getMe(caller))),
    RegisterAgent: authenticatedUnary<pb.RegisterAgentRequest, pb.RegisterAgentResponse>(deps, path("RegisterAgent"), async (req, caller) => {
      const result = await identity.registerPrincipal(caller, "agent", { displayName: req.displayName, fingerprint: req.fingerprint });
      return create(pb.RegisterAgentResponseSchema, result);
    }),
    RegisterClient: authenticatedUnary<pb.RegisterClientRequest, pb.RegisterClientResponse>(deps, path("RegisterClient"), async (req, caller) => {
      const result = await identity.registerPrincipal(caller, "client", { displayName: req.displayName, fingerprint: req.fingerprint });
      return create(pb.RegisterClientResponseSchema, result);
    }),
  });
}

export interface ClientServiceOptions {
  auth: RpcAuthenticator;
  log: Logger;
  identity: IdentityService;
  /**
   * Further handler sets, e.g. the conversation RPCs (GetEvents, SendMessage, StreamEvents, ListAgents,
   * ApproveTool, AnswerQuestion), built with `authenticatedUnary` / `authenticatedServerStream`.
   */
  handlers?: readonly RpcHandlerFactory[];
}

/** ClientService; no role gate beyond authentication except Register* (member). Throws Error on a duplicate method. */
export function createClientService(options: ClientServiceOptions): { service: DescService; implementation: UntypedServiceImplementation } {
  const deps = { auth: options.auth, log: options.log };
  return {
    service: pb.ClientService,
    implementation: composeService(pb.ClientService, deps, [clientIdentityHandlers(options.identity), ...(options.handlers ?? [])]),
  };
}
