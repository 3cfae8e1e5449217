// ABOUTME: Channel bindings as one domain service shared by HTTP, AdminService and the web admin: plain inputs,
// ABOUTME: each change and its audit row in one transaction, the spec's texts thrown as GatewayErrors.
import type { AgentInfo } from "../agent/agent-connection.js";
import type { AgentManager } from "../agent/agent-manager.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { IdSource } from "../lib/ids.js";
import { createAuditRepository, whoDetail, type AuditWho } from "../store/audit-repository.js";
import { createBindingRepository, type Binding, type BindingFilter } from "../store/binding-repository.js";
import { ANONYMOUS_PRINCIPAL_ID, createPrincipalRepository } from "../store/principal-repository.js";
import { inTransaction, type StoreExecutor } from "../store/transaction.js";
import { findBoundAgent } from "./binding-lookup.js";

const FRONTEND_PATTERN = /^[a-z0-9_]{1,50}$/;
const MAX_CHANNEL_ID_BYTES = 500;

/** The outcome of binding a channel to a connected agent instance. */
export interface InstanceBinding {
  binding: Binding;
  /** The connected agent the channel now routes to. */
  agent: AgentInfo;
  /** False when the channel already pointed at this agent and working dir (nothing was written). */
  isChanged: boolean;
  /** On a rebind: the old binding's agent name when it is online, else its principal id; null otherwise. */
  reboundFrom: string | null;
}

export interface BindingService {
  /** Bindings, newest first, optionally filtered. Store failures propagate. */
  list(filter?: BindingFilter): Promise<Binding[]>;
  /** The binding of one channel, or undefined. */
  findByChannel(frontend: string, channelId: string): Promise<Binding | undefined>;
  /**
   * Binds `(frontend, channelId)` to the connection with `instanceId` (http-api.md §6): unchanged when it already
   * points there, else the old binding (if any) is deleted and the new one inserted, audited `delete_binding` and
   * `create_binding` in one transaction. Throws INVALID_ARGUMENT `frontend, channel_id, and instance_id are
   * required`, NOT_FOUND `no agent online with instance_id '<id>'`, ALREADY_EXISTS `binding already exists` (a lost
   * race on the channel).
   */
  bindInstance(input: { frontend: string; channelId: string; instanceId: string; actor: string }): Promise<InstanceBinding>;
  /**
   * Binds a channel to an agent principal (services.md §2 CreateBinding), audited `create_binding`. Throws
   * INVALID_ARGUMENT (`frontend required`, the frontend pattern, `channel_id required`, `channel_id exceeds 500
   * characters`, `agent_id required`), NOT_FOUND `agent not found`, ALREADY_EXISTS `channel already bound`.
   */
  create(input: { frontend: string; channelId: string; agentId: string; actor: string; workingDir?: string; who?: AuditWho }): Promise<Binding>;
  /**
   * Points a binding at another agent principal, audited `update_binding` with the previous agent. Throws
   * INVALID_ARGUMENT `id required` / `agent_id required`, NOT_FOUND `agent not found` / `binding not found`.
   */
  update(input: { id: string; agentId: string; actor: string; who?: AuditWho }): Promise<Binding>;
  /** Deletes a binding by id, audited `delete_binding`. Throws INVALID_ARGUMENT `id required`, NOT_FOUND `binding not found`. */
  deleteById(input: { id: string; actor: string; who?: AuditWho }): Promise<Binding>;
  /** Deletes the binding of one channel, audited `delete_binding` (with its working dir). Throws NOT_FOUND `binding not found`. */
  deleteByChannel(input: { frontend: string; channelId: string; actor: string }): Promise<Binding>;
}

export interface BindingServiceDeps {
  db: StoreExecutor;
  agents: Pick<AgentManager, "findByInstanceId" | "list">;
  clock: Clock;
  ids: IdSource;
}

/** Builds the binding service over the store and the connected agents. */
export function createBindingService(deps: BindingServiceDeps): BindingService {
  const now = () => isoTimestamp(deps.clock.now());

  return {
    list: (filter) => createBindingRepository(deps.db).list(filter),
    findByChannel: (frontend, channelId) => createBindingRepository(deps.db).findByChannel(frontend, channelId),

    async bindInstance({ frontend, channelId, instanceId, actor }) {
      if (frontend === "" || channelId === "" || instanceId === "") {
        throw new GatewayError("INVALID_ARGUMENT", "frontend, channel_id, and instance_id are required");
      }
      const agent = deps.agents.findByInstanceId(instanceId);
      if (agent === undefined) throw new GatewayError("NOT_FOUND", `no agent online with instance_id '${instanceId}'`);
      const existing = await createBindingRepository(deps.db).findByChannel(frontend, channelId);
      if (existing !== undefined && existing.agentId === agent.principalId && existing.workingDir === agent.workingDir) {
        return { binding: existing, agent, isChanged: false, reboundFrom: null };
      }
      const reboundFrom = existing === undefined ? null : (findBoundAgent(deps.agents.list(), existing)?.name ?? existing.agentId);
      const stamp = now();
      const binding = await inTransaction(deps.db, async (trx) => {
        const bindings = createBindingRepository(trx);
        const audit = createAuditRepository(trx);
        if (existing !== undefined && (await bindings.delete(existing.id))) {
          await audit.record(channelAudit("delete_binding", existing, actor, stamp));
        }
        const created = await bindings.insert({
          id: deps.ids.uuid(),
          frontend,
          channelId,
          agentId: agent.principalId,
          workingDir: agent.workingDir,
          createdBy: actor,
          now: stamp,
        });
        if (created === undefined) throw new GatewayError("ALREADY_EXISTS", "binding already exists");
        await audit.record(channelAudit("create_binding", created, actor, stamp));
        return created;
      });
      return { binding, agent, isChanged: true, reboundFrom };
    },

    async create({ frontend, channelId, agentId, actor, workingDir = "", who }) {
      if (frontend === "") throw new GatewayError("INVALID_ARGUMENT", "frontend required");
      if (!FRONTEND_PATTERN.test(frontend)) {
        throw new GatewayError("INVALID_ARGUMENT", "frontend must be lowercase alphanumeric with underscores, 1-50 chars");
      }
      if (channelId === "") throw new GatewayError("INVALID_ARGUMENT", "channel_id required");
      if (Buffer.byteLength(channelId, "utf8") > MAX_CHANNEL_ID_BYTES) {
        throw new GatewayError("INVALID_ARGUMENT", "channel_id exceeds 500 characters");
      }
      if (agentId === "") throw new GatewayError("INVALID_ARGUMENT", "agent_id required");
      const stamp = now();
      return inTransaction(deps.db, async (trx) => {
        await requireAgentPrincipal(trx, agentId);
        const binding = await createBindingRepository(trx).insert({
          id: deps.ids.uuid(),
          frontend,
          channelId,
          agentId,
          workingDir,
          createdBy: actor,
          now: stamp,
        });
        if (binding === undefined) throw new GatewayError("ALREADY_EXISTS", "channel already bound");
        await createAuditRepository(trx).record(principalAudit("create_binding", binding, actor, stamp, who));
        return binding;
      });
    },

    async update({ id, agentId, actor, who }) {
      if (id === "") throw new GatewayError("INVALID_ARGUMENT", "id required");
      if (agentId === "") throw new GatewayError("INVALID_ARGUMENT", "agent_id required");
      const stamp = now();
      return inTransaction(deps.db, async (trx) => {
        await requireAgentPrincipal(trx, agentId);
        const bindings = createBindingRepository(trx);
        const previous = await bindings.findById(id);
        const updated = previous === undefined ? undefined : await bindings.updateAgent(id, agentId);
        if (previous === undefined || updated === undefined) throw new GatewayError("NOT_FOUND", "binding not found");
        await createAuditRepository(trx).record({
          actor,
          action: "update_binding",
          targetType: "binding",
          targetId: updated.id,
          detail: { ...whoDetail(who), agent_id: updated.agentId, previous_agent_id: previous.agentId },
          now: stamp,
        });
        return updated;
      });
    },

    async deleteById({ id, actor, who }) {
      if (id === "") throw new GatewayError("INVALID_ARGUMENT", "id required");
      const stamp = now();
      return inTransaction(deps.db, async (trx) => {
        const bindings = createBindingRepository(trx);
        const existing = await bindings.findById(id);
        if (existing === undefined || !(await bindings.delete(existing.id))) throw new GatewayError("NOT_FOUND", "binding not found");
        await createAuditRepository(trx).record(principalAudit("delete_binding", existing, actor, stamp, who));
        return existing;
      });
    },

    async deleteByChannel({ frontend, channelId, actor }) {
      const stamp = now();
      return inTransaction(deps.db, async (trx) => {
        const bindings = createBindingRepository(trx);
        const existing = await bindings.findByChannel(frontend, channelId);
        if (existing === undefined || !(await bindings.delete(existing.id))) throw new GatewayError("NOT_FOUND", "binding not found");
        await createAuditRepository(trx).record(channelAudit("delete_binding", existing, actor, stamp));
        return existing;
      });
    },
  };
}

/** NOT_FOUND `agent not found` unless `id` is a principal of type agent (or the built-in `anonymous`, auth.md §11). */
async function requireAgentPrincipal(db: StoreExecutor, id: string): Promise<void> {
  const principal = await createPrincipalRepository(db).findById(id);
  if (principal === undefined) throw new GatewayError("NOT_FOUND", "agent not found");
  if (principal.type !== "agent" && principal.id !== ANONYMOUS_PRINCIPAL_ID) throw new GatewayError("NOT_FOUND", "agent not found");
}

/** The audit row of a change made by channel and instance (http-api.md §6): the binding with its working dir. */
function channelAudit(action: "create_binding" | "delete_binding", binding: Binding, actor: string, now: string) {
  return {
    actor,
    action,
    targetType: "binding",
    targetId: binding.id,
    detail: { frontend: binding.frontend, channel_id: binding.channelId, agent_id: binding.agentId, working_dir: binding.workingDir },
    now,
  };
}

/** The audit row of an AdminService change (services.md §2): frontend, channel and agent principal. */
function principalAudit(action: "create_binding" | "delete_binding", binding: Binding, actor: string, now: string, who?: AuditWho) {
  return {
    actor,
    action,
    targetType: "binding",
    targetId: binding.id,
    detail: { ...whoDetail(who), frontend: binding.frontend, channel_id: binding.channelId, agent_id: binding.agentId },
    now,
  };
}
