// ABOUTME: Builds the gRPC edge over the domain: CovenControl, AdminService, ClientService, PackService and gateway.v1.
// ABOUTME: Ends a removed principal's StreamEvents calls; `endStreams` ends all of them at shutdown.
import type { GatewayConfig } from "../config/types.js";
import type { Logger } from "../lib/logger.js";
import { adminBindingHandlers } from "../rpc/admin-binding-handlers.js";
import { createAdminService } from "../rpc/admin-service.js";
import { createClientConversationHandlers, type ClientConversationHandlers } from "../rpc/client-conversation-handlers.js";
import { createClientService } from "../rpc/client-service.js";
import { createCovenControlService } from "../rpc/coven-control-service.js";
import { createGatewayV1Service } from "../rpc/gateway-v1-service.js";
import { createGrpcServer, type GrpcServerHandle } from "../rpc/grpc-server.js";
import type { RpcAuthenticator } from "../rpc/rpc-auth.js";
import { createRpcIdentityAuthenticator } from "../rpc/rpc-authenticator.js";
import { principalRemovedEnd, type GatewayDomain } from "./create-domain.js";

export interface GatewayGrpc {
  readonly server: GrpcServerHandle;
  /** The live StreamEvents calls (counted, ended per principal). */
  readonly streams: ClientConversationHandlers;
  /** Ends every live StreamEvents call with UNAVAILABLE `gateway shutting down` and refuses new ones. */
  endStreams(): void;
}

/** The gRPC server (not listening) over `domain`; `auth` replaces the JWT + SSH authenticator. */
export function buildGatewayGrpc(options: {
  domain: GatewayDomain;
  config: GatewayConfig;
  log: Logger;
  auth?: RpcAuthenticator;
  /** How long a quiet StreamEvents call lives (event-stream.ts IDLE_TIMEOUT_MS by default). */
  streamIdleTimeoutMs?: number;
}): GatewayGrpc {
  const { domain, config, log } = options;
  const { agents, conversations, identity } = domain;
  const maxMessageBytes = config.limits.grpcMaxMessageBytes;
  const conversationRpc = createClientConversationHandlers({
    conversations,
    agents,
    ledger: domain.ledger,
    hub: domain.hub,
    approvals: domain.approvals,
    questions: domain.questions,
    log,
    stream: { maxQueue: config.limits.subscriberQueue, idleTimeoutMs: options.streamIdleTimeoutMs },
    ops: domain.ops.send,
  });
  identity.service.onPrincipalRemoved(({ principalId, reason }) => {
    conversationRpc.closePrincipal(principalId, principalRemovedEnd(reason));
  });
  const auth = domain.ops.meterRpcAuth(
    options.auth ?? createRpcIdentityAuthenticator({ resolver: identity.resolver, ssh: identity.ssh, lockout: identity.lockout, log }),
    identity.isAuthEnabled ? identity.lockout : undefined,
  );
  const server = createGrpcServer({
    log,
    maxMessageBytes,
    services: [
      createCovenControlService({ agents, auth, log, maxMessageBytes }),
      createAdminService({ auth, log, identity: identity.service, handlers: [adminBindingHandlers({ bindings: domain.bindings, log })] }),
      createClientService({ auth, log, identity: identity.service, handlers: [conversationRpc.handlers] }),
      createGatewayV1Service({ agents, conversations, auth, log, maintenance: domain.ops.maintenance }),
      domain.packs.service(auth),
    ],
  });
  return {
    server,
    streams: conversationRpc,
    endStreams() {
      conversationRpc.shutdown();
    },
  };
}
