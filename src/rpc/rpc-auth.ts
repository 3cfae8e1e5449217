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

/** The principal each call authenticated as, by the call's metadata object (the access line reads it, ops.md §6). */
const callPrincipals = new WeakMap<Metadata, string>();

/** Authenticates one call with `auth` and remembers its principal for the call's access line. */
export async function authenticateCall(auth: RpcAuthenticator, context: RpcCallContext): Promise<RpcPrincipal> {
  const principal = await auth.authenticate(context);
  callPrincipals.set(context.metadata, principal.id);
  return principal;
}

/** The principal id a call authenticated as, when it did. */
export function callPrincipalId(metadata: Metadata): string | undefined {
  return callPrincipals.get(metadata);
}
