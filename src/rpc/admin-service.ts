// ABOUTME: coven.AdminService on the gRPC server: the principal and token RPCs (services.md §2), admin-gated.
// ABOUTME: Binding RPCs come from the handler sets passed in `handlers` (admin-binding-handlers.ts).
import { create } from "@bufbuild/protobuf";
import type { DescService } from "@bufbuild/protobuf";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { IdentityService } from "../auth/identity-service.js";
import * as pb from "../gen/coven_pb.js";
import type { Logger } from "../lib/logger.js";
import { decodeCreatePrincipal, decodeTtlSeconds, encodeCreateTokenResponse, encodePrincipal } from "./identity-codec.js";
import type { RpcAuthenticator } from "./rpc-auth.js";
import { adminGated, authenticatedUnary, composeService, methodPath, type RpcHandlerFactory } from "./rpc-handlers.js";

/** The principal/token handlers of AdminService (CreateToken, ListPrincipals, CreatePrincipal, DeletePrincipal). */
export function adminIdentityHandlers(identity: IdentityService): RpcHandlerFactory {
  const path = (name: string) => methodPath(pb.AdminService, name);
  return (deps) => ({
    CreateToken: authenticatedUnary<pb.CreateTokenRequest, pb.CreateTokenResponse>(deps, path("CreateToken"), async (req, caller) =>
      encodeCreateTokenResponse(
        await identity.createToken(caller.id, { principalId: req.principalId, ttlSeconds: decodeTtlSeconds(req.ttlSeconds) }),
      ),
    ),
    ListPrincipals: authenticatedUnary<pb.ListPrincipalsRequest, pb.ListPrincipalsResponse>(deps, path("ListPrincipals"), async (req) => {
      const principals = await identity.listPrincipals({ type: req.type, status: req.status });
      return create(pb.ListPrincipalsResponseSchema, { principals: principals.map(encodePrincipal) });
    }),
    CreatePrincipal: authenticatedUnary<pb.CreatePrincipalRequest, pb.Principal>(deps, path("CreatePrincipal"), async (req, caller) =>
      encodePrincipal(await identity.createPrincipal(caller.id, decodeCreatePrincipal(req))),
    ),
    DeletePrincipal: authenticatedUnary<pb.DeletePrincipalRequest, pb.DeletePrincipalResponse>(
      deps,
      path("DeletePrincipal"),
      async (req, caller) => {
        await identity.deletePrincipal(caller.id, req.id);
        return create(pb.DeletePrincipalResponseSchema, {});
      },
    ),
  });
}

export interface AdminServiceOptions {
  auth: RpcAuthenticator;
  log: Logger;
  identity: IdentityService;
  /** Further handler sets (e.g. the binding RPCs); each is built with the admin-gated authenticator. */
  handlers?: readonly RpcHandlerFactory[];
}

/**
 * AdminService with every method behind the admin gate (PERMISSION_DENIED `admin role required`). Throws Error
 * when two handler sets implement the same method.
 */
export function createAdminService(options: AdminServiceOptions): { service: DescService; implementation: UntypedServiceImplementation } {
  const deps = { auth: adminGated(options.auth), log: options.log };
  return {
    service: pb.AdminService,
    implementation: composeService(pb.AdminService, deps, [adminIdentityHandlers(options.identity), ...(options.handlers ?? [])]),
  };
}
