// ABOUTME: Building blocks for authenticated grpc-js handlers: unary and server-streaming wrappers, the admin gate,
// ABOUTME: and a composer that merges handler sets into one service (unimplemented methods still authenticate).
import type { DescService } from "@bufbuild/protobuf";
import {
  status as GrpcStatus,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { requireAdmin } from "../auth/roles.js";
import type { Logger } from "../lib/logger.js";
import { authenticateCall, type RpcAuthenticator, type RpcPrincipal } from "./rpc-auth.js";
import { toGrpcError, type GrpcStatusError } from "./status-map.js";

/** What a handler set needs: the authenticator of its service (already admin-gated for AdminService) and a logger. */
export interface RpcHandlerDeps {
  auth: RpcAuthenticator;
  log: Logger;
}

/** grpc-js handlers keyed by the proto method name (`CreateToken`, `GetMe`, ...). */
export type RpcMethodHandlers = Record<string, UntypedHandleCall>;

/** Builds one set of handlers from the service's deps; sets are merged by `composeService`. */
export type RpcHandlerFactory = (deps: RpcHandlerDeps) => RpcMethodHandlers;

/** `/<package.Service>/<Method>`, the path the authenticator and the logs see. */
export function methodPath(service: DescService, methodName: string): string {
  return `/${service.typeName}/${methodName}`;
}

function asServiceError(status: GrpcStatusError): ServerErrorResponse {
  return Object.assign(new Error(status.details), {
    code: status.code,
    details: status.details,
    ...(status.metadata === undefined ? {} : { metadata: status.metadata }),
  });
}

/**
 * Wraps a unary handler: authenticate (trailers-only error on failure), run `handler`, map its GatewayErrors to
 * gRPC statuses (unknown errors are logged and redacted as INTERNAL `internal error`).
 */
export function authenticatedUnary<I, O>(
  deps: RpcHandlerDeps,
  path: string,
  handler: (request: I, principal: RpcPrincipal, call: ServerUnaryCall<I, O>) => Promise<O>,
): handleUnaryCall<I, O> {
  return (call, callback) => {
    authenticateCall(deps.auth, { metadata: call.metadata, peer: call.getPeer(), path, kind: "call" })
      .then((principal) => handler(call.request, principal, call))
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(asServiceError(toGrpcError(err, deps.log, { path }))),
      );
  };
}

/**
 * Wraps a server-streaming handler: authenticate first (no headers are sent before, so a rejection is
 * trailers-only), then hand the call to `handler`, which writes and ends it. A rejected handler promise ends the
 * call with the mapped status.
 */
export function authenticatedServerStream<I, O>(
  deps: RpcHandlerDeps,
  path: string,
  handler: (call: ServerWritableStream<I, O>, principal: RpcPrincipal) => void | Promise<void>,
): handleServerStreamingCall<I, O> {
  return (call) => {
    authenticateCall(deps.auth, { metadata: call.metadata, peer: call.getPeer(), path, kind: "call" })
      .then((principal) => handler(call, principal))
      .catch((err: unknown) => {
        if (!call.writableEnded && !call.destroyed) call.emit("error", toGrpcError(err, deps.log, { path }));
      });
  };
}

/** A handler that authenticates like every other method, then answers UNIMPLEMENTED. */
function unimplemented(deps: RpcHandlerDeps, path: string, isUnary: boolean): UntypedHandleCall {
  const details = `method ${path} not implemented`;
  const status: GrpcStatusError = { code: GrpcStatus.UNIMPLEMENTED, details, message: details };
  const handler = (call: ServerUnaryCall<unknown, unknown>, callback?: (err: ServerErrorResponse) => void) => {
    authenticateCall(deps.auth, { metadata: call.metadata, peer: call.getPeer(), path, kind: "call" }).then(
      () => (isUnary && callback ? callback(asServiceError(status)) : call.emit("error", status)),
      (err: unknown) => {
        const mapped = toGrpcError(err, deps.log, { path });
        if (isUnary && callback) callback(asServiceError(mapped));
        else call.emit("error", mapped);
      },
    );
  };
  return handler as unknown as UntypedHandleCall;
}

/** Wraps an authenticator with the AdminService gate (auth.md §9): role `admin` or `owner`, else PERMISSION_DENIED. */
export function adminGated(auth: RpcAuthenticator): RpcAuthenticator {
  return {
    async authenticate(context) {
      return requireAdmin(await auth.authenticate(context));
    },
  };
}

/**
 * Merges handler sets into one implementation of `service`. A method no set implements authenticates, then
 * answers UNIMPLEMENTED. Throws Error (a wiring bug) for a method implemented twice or unknown to the service.
 */
export function composeService(
  service: DescService,
  deps: RpcHandlerDeps,
  factories: readonly RpcHandlerFactory[],
): UntypedServiceImplementation {
  const names = new Set(service.methods.map((m) => m.name));
  const implementation: UntypedServiceImplementation = {};
  for (const factory of factories) {
    for (const [name, handler] of Object.entries(factory(deps))) {
      if (!names.has(name)) throw new Error(`${service.typeName} has no method ${name}`);
      if (implementation[name] !== undefined) throw new Error(`${service.typeName}/${name} is implemented twice`);
      implementation[name] = handler;
    }
  }
  for (const method of service.methods) {
    if (implementation[method.name] === undefined) {
      implementation[method.name] = unimplemented(deps, methodPath(service, method.name), method.methodKind === "unary");
    }
  }
  return implementation;
}
