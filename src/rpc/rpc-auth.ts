// ABOUTME: The authentication hook point of the gRPC edge: one function that turns call metadata into a principal.
// ABOUTME: No-auth mode resolves every caller to the built-in anonymous principal.
import type { Metadata } from "@grpc/grpc-js";

/** The authenticated caller of one RPC. */
export interface RpcPrincipal {
  id: string;
  isAnonymous: boolean;
  roles: readonly string[];
}

export interface RpcCallContext {
  metadata: Metadata;
  peer: string;
  path: string;
  kind: "agent_stream" | "call";
}

/** Runs before every handler; rejects with a GatewayError (UNAUTHENTICATED, PERMISSION_DENIED, ...). */
export interface RpcAuthenticator {
  authenticate(context: RpcCallContext): Promise<RpcPrincipal>;
}

/** No-auth mode: every caller is `anonymous` with role `admin`. */
export const anonymousAuthenticator: RpcAuthenticator = {
  authenticate: async () => ({ id: "anonymous", isAnonymous: true, roles: ["admin"] }),
};
