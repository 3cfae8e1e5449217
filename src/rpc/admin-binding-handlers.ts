// ABOUTME: The binding RPCs of coven.AdminService (List/Create/Update/DeleteBinding) as one handler set.
// ABOUTME: The rules, texts and audit rows live in conversation/binding-service.ts, shared with HTTP and the web admin.
import { create } from "@bufbuild/protobuf";
import type { BindingService } from "../conversation/binding-service.js";
import * as pb from "../gen/coven_pb.js";
import { GatewayError, isGatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import { encodeBinding } from "./conversation-codec.js";
import { authenticatedUnary, methodPath, type RpcHandlerFactory } from "./rpc-handlers.js";

export interface AdminBindingDeps {
  bindings: Pick<BindingService, "list" | "create" | "update" | "deleteById">;
  log: Logger;
}

/**
 * ListBindings, CreateBinding, UpdateBinding and DeleteBinding (services.md §2) over the shared BindingService,
 * whose GatewayErrors carry the spec's texts; anything else is logged and answered with the RPC's fixed INTERNAL
 * text. Register it in `createAdminService({ handlers: [...] })`, which puts every method behind the admin gate.
 */
export function adminBindingHandlers(deps: AdminBindingDeps): RpcHandlerFactory {
  const path = (name: string) => methodPath(pb.AdminService, name);
  return (rpc) => ({
    ListBindings: authenticatedUnary<pb.ListBindingsRequest, pb.ListBindingsResponse>(rpc, path("ListBindings"), async (req) => {
      const bindings = await orInternal(deps.log, "failed to list bindings", () =>
        deps.bindings.list({ frontend: req.frontend, agentId: req.agentId }),
      );
      return create(pb.ListBindingsResponseSchema, { bindings: bindings.map(encodeBinding) });
    }),
    CreateBinding: authenticatedUnary<pb.CreateBindingRequest, pb.Binding>(rpc, path("CreateBinding"), async (req, caller) => {
      const input = { frontend: req.frontend, channelId: req.channelId, agentId: req.agentId, actor: caller.id };
      return encodeBinding(await orInternal(deps.log, "failed to create binding", () => deps.bindings.create(input)));
    }),
    UpdateBinding: authenticatedUnary<pb.UpdateBindingRequest, pb.Binding>(rpc, path("UpdateBinding"), async (req, caller) => {
      const input = { id: req.id, agentId: req.agentId, actor: caller.id };
      return encodeBinding(await orInternal(deps.log, "failed to update binding", () => deps.bindings.update(input)));
    }),
    DeleteBinding: authenticatedUnary<pb.DeleteBindingRequest, pb.DeleteBindingResponse>(rpc, path("DeleteBinding"), async (req, caller) => {
      await orInternal(deps.log, "failed to delete binding", () => deps.bindings.deleteById({ id: req.id, actor: caller.id }));
      return create(pb.DeleteBindingResponseSchema, {});
    }),
  });
}

/** Runs `fn`; GatewayErrors pass through, anything else is logged and becomes INTERNAL with the RPC's fixed text. */
async function orInternal<T>(log: Logger, message: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isGatewayError(err)) throw err;
    log.error(message, { cause: err });
    throw new GatewayError("INTERNAL", message, { cause: err });
  }
}
