// ABOUTME: The binding RPCs of coven.AdminService (List/Create/Update/DeleteBinding) as one handler set.
// ABOUTME: Checks run in the spec's order; every change and its audit row commit in one transaction.
import { create } from "@bufbuild/protobuf";
import * as pb from "../gen/coven_pb.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError, isGatewayError } from "../lib/gateway-error.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { createAuditRepository } from "../store/audit-repository.js";
import { createBindingRepository, type Binding } from "../store/binding-repository.js";
import { ANONYMOUS_PRINCIPAL_ID, createPrincipalRepository } from "../store/principal-repository.js";
import { inTransaction, type StoreExecutor } from "../store/transaction.js";
import { encodeBinding } from "./conversation-codec.js";
import { authenticatedUnary, methodPath, type RpcHandlerFactory } from "./rpc-handlers.js";

export interface AdminBindingDeps {
  db: StoreExecutor;
  clock: Clock;
  ids: IdSource;
  log: Logger;
}

const FRONTEND_PATTERN = /^[a-z0-9_]{1,50}$/;
const MAX_CHANNEL_ID_BYTES = 500;

/**
 * ListBindings, CreateBinding, UpdateBinding and DeleteBinding (services.md §2). Register it in
 * `createAdminService({ handlers: [...] })`, which puts every method behind the admin gate.
 */
export function adminBindingHandlers(deps: AdminBindingDeps): RpcHandlerFactory {
  const path = (name: string) => methodPath(pb.AdminService, name);
  return (rpc) => ({
    ListBindings: authenticatedUnary<pb.ListBindingsRequest, pb.ListBindingsResponse>(rpc, path("ListBindings"), async (req) => {
      const bindings = await orInternal(deps.log, "failed to list bindings", () =>
        createBindingRepository(deps.db).list({ frontend: req.frontend, agentId: req.agentId }),
      );
      return create(pb.ListBindingsResponseSchema, { bindings: bindings.map(encodeBinding) });
    }),
    CreateBinding: authenticatedUnary<pb.CreateBindingRequest, pb.Binding>(rpc, path("CreateBinding"), async (req, caller) =>
      encodeBinding(await createBinding(deps, req, caller.id)),
    ),
    UpdateBinding: authenticatedUnary<pb.UpdateBindingRequest, pb.Binding>(rpc, path("UpdateBinding"), async (req, caller) =>
      encodeBinding(await updateBinding(deps, req, caller.id)),
    ),
    DeleteBinding: authenticatedUnary<pb.DeleteBindingRequest, pb.DeleteBindingResponse>(rpc, path("DeleteBinding"), async (req, caller) => {
      await deleteBinding(deps, req, caller.id);
      return create(pb.DeleteBindingResponseSchema, {});
    }),
  });
}

/**
 * Binds (frontend, channel_id) to an agent principal, audited `create_binding`. Throws INVALID_ARGUMENT (`frontend
 * required`, the frontend pattern, `channel_id required`, `channel_id exceeds 500 characters`, `agent_id
 * required`), NOT_FOUND `agent not found`, ALREADY_EXISTS `channel already bound`, INTERNAL `failed to create binding`.
 */
async function createBinding(deps: AdminBindingDeps, req: pb.CreateBindingRequest, actor: string): Promise<Binding> {
  if (req.frontend === "") throw new GatewayError("INVALID_ARGUMENT", "frontend required");
  if (!FRONTEND_PATTERN.test(req.frontend)) {
    throw new GatewayError("INVALID_ARGUMENT", "frontend must be lowercase alphanumeric with underscores, 1-50 chars");
  }
  if (req.channelId === "") throw new GatewayError("INVALID_ARGUMENT", "channel_id required");
  if (Buffer.byteLength(req.channelId, "utf8") > MAX_CHANNEL_ID_BYTES) {
    throw new GatewayError("INVALID_ARGUMENT", "channel_id exceeds 500 characters");
  }
  if (req.agentId === "") throw new GatewayError("INVALID_ARGUMENT", "agent_id required");
  const now = isoTimestamp(deps.clock.now());
  return orInternal(deps.log, "failed to create binding", () =>
    inTransaction(deps.db, async (trx) => {
      await requireAgentPrincipal(trx, req.agentId);
      const binding = await createBindingRepository(trx).insert({
        id: deps.ids.uuid(),
        frontend: req.frontend,
        channelId: req.channelId,
        agentId: req.agentId,
        workingDir: "",
        createdBy: actor,
        now,
      });
      if (binding === undefined) throw new GatewayError("ALREADY_EXISTS", "channel already bound");
      await createAuditRepository(trx).record({
        actor,
        action: "create_binding",
        targetType: "binding",
        targetId: binding.id,
        detail: { frontend: binding.frontend, channel_id: binding.channelId, agent_id: binding.agentId },
        now,
      });
      return binding;
    }),
  );
}

/**
 * Points a binding at another agent principal, audited `update_binding` with the previous agent. Throws
 * INVALID_ARGUMENT `id required` / `agent_id required`, NOT_FOUND `agent not found` / `binding not found`,
 * INTERNAL `failed to update binding`.
 */
async function updateBinding(deps: AdminBindingDeps, req: pb.UpdateBindingRequest, actor: string): Promise<Binding> {
  if (req.id === "") throw new GatewayError("INVALID_ARGUMENT", "id required");
  if (req.agentId === "") throw new GatewayError("INVALID_ARGUMENT", "agent_id required");
  const now = isoTimestamp(deps.clock.now());
  return orInternal(deps.log, "failed to update binding", () =>
    inTransaction(deps.db, async (trx) => {
      await requireAgentPrincipal(trx, req.agentId);
      const bindings = createBindingRepository(trx);
      const previous = await bindings.findById(req.id);
      const updated = previous === undefined ? undefined : await bindings.updateAgent(req.id, req.agentId);
      if (previous === undefined || updated === undefined) throw new GatewayError("NOT_FOUND", "binding not found");
      await createAuditRepository(trx).record({
        actor,
        action: "update_binding",
        targetType: "binding",
        targetId: updated.id,
        detail: { agent_id: updated.agentId, previous_agent_id: previous.agentId },
        now,
      });
      return updated;
    }),
  );
}

/**
 * Deletes a binding, audited `delete_binding` with the deleted row's (frontend, channel_id, agent_id). Throws
 * INVALID_ARGUMENT `id required`, NOT_FOUND `binding not found`, INTERNAL `failed to delete binding`.
 */
async function deleteBinding(deps: AdminBindingDeps, req: pb.DeleteBindingRequest, actor: string): Promise<void> {
  if (req.id === "") throw new GatewayError("INVALID_ARGUMENT", "id required");
  const now = isoTimestamp(deps.clock.now());
  await orInternal(deps.log, "failed to delete binding", () =>
    inTransaction(deps.db, async (trx) => {
      const bindings = createBindingRepository(trx);
      const existing = await bindings.findById(req.id);
      if (existing === undefined || !(await bindings.delete(existing.id))) throw new GatewayError("NOT_FOUND", "binding not found");
      await createAuditRepository(trx).record({
        actor,
        action: "delete_binding",
        targetType: "binding",
        targetId: existing.id,
        detail: { frontend: existing.frontend, channel_id: existing.channelId, agent_id: existing.agentId },
        now,
      });
    }),
  );
}

/** NOT_FOUND `agent not found` unless `id` is a principal of type agent (or the built-in `anonymous`, auth.md §11). */
async function requireAgentPrincipal(db: StoreExecutor, id: string): Promise<void> {
  const principal = await createPrincipalRepository(db).findById(id);
  if (principal === undefined) throw new GatewayError("NOT_FOUND", "agent not found");
  if (principal.type !== "agent" && principal.id !== ANONYMOUS_PRINCIPAL_ID) throw new GatewayError("NOT_FOUND", "agent not found");
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
