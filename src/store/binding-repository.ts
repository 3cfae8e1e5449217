// ABOUTME: Channel bindings (store.md §3 bindings, http-api.md §6, services.md): (frontend, channel_id) → agent.
// ABOUTME: Insert reports a taken (frontend, channel_id) as undefined; nothing rewrites bindings on reconnect.
import { randomUUID } from "node:crypto";
import { sql, type Selectable } from "kysely";
import type { BindingRow } from "./schema.js";
import type { StoreExecutor } from "./transaction.js";

/** A stored binding. */
export interface Binding {
  id: string;
  frontend: string;
  channelId: string;
  /** An agent's principal_id, or `anonymous` in no-auth mode. */
  agentId: string;
  /** `""` when unset. */
  workingDir: string;
  createdAt: string;
  /** Actor string; undefined when unknown. */
  createdBy: string | undefined;
}

export interface NewBinding {
  /** Defaults to a fresh UUIDv4. */
  id?: string;
  frontend: string;
  channelId: string;
  agentId: string;
  /** Defaults to `""`. */
  workingDir?: string;
  createdBy?: string | null;
  /** Normalised ISO timestamp for created_at. */
  now: string;
}

export interface BindingFilter {
  /** Exact match; set but empty matches only an empty value. */
  frontend?: string;
  /** Exact match; set but empty matches only an empty value. */
  agentId?: string;
}

export interface BindingRepository {
  /** Matching bindings, newest created_at first (ties: latest insert first). */
  list(filter?: BindingFilter): Promise<Binding[]>;
  findByChannel(frontend: string, channelId: string): Promise<Binding | undefined>;
  findById(id: string): Promise<Binding | undefined>;
  /** Inserts the binding; undefined when (frontend, channel_id) is already bound (nothing is written). */
  insert(binding: NewBinding): Promise<Binding | undefined>;
  /** Points binding `id` at another agent (nothing else changes); the updated binding, or undefined when unknown. */
  updateAgent(id: string, agentId: string): Promise<Binding | undefined>;
  /** True when binding `id` existed. */
  delete(id: string): Promise<boolean>;
  /** True when (frontend, channel_id) was bound. */
  deleteByChannel(frontend: string, channelId: string): Promise<boolean>;
}

function toBinding(row: Selectable<BindingRow>): Binding {
  return {
    id: row.binding_id,
    frontend: row.frontend,
    channelId: row.channel_id,
    agentId: row.agent_id,
    workingDir: row.working_dir,
    createdAt: row.created_at,
    createdBy: row.created_by ?? undefined,
  };
}

/**
 * Creates the binding repository over `db` (the database or a transaction, see transaction.ts). Methods throw
 * only unexpected driver errors (a reused binding id included), which edges report as INTERNAL.
 */
export function createBindingRepository(db: StoreExecutor): BindingRepository {
  return {
    async list(filter = {}) {
      let query = db.selectFrom("bindings").selectAll();
      if (filter.frontend !== undefined) query = query.where("frontend", "=", filter.frontend);
      if (filter.agentId !== undefined) query = query.where("agent_id", "=", filter.agentId);
      const rows = await query.orderBy("created_at", "desc").orderBy(sql`rowid`, "desc").execute();
      return rows.map(toBinding);
    },

    async findByChannel(frontend, channelId) {
      const row = await db
        .selectFrom("bindings")
        .selectAll()
        .where("frontend", "=", frontend)
        .where("channel_id", "=", channelId)
        .executeTakeFirst();
      return row === undefined ? undefined : toBinding(row);
    },

    async findById(id) {
      const row = await db.selectFrom("bindings").selectAll().where("binding_id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : toBinding(row);
    },

    async insert(binding) {
      const row = await db
        .insertInto("bindings")
        .values({
          binding_id: binding.id ?? randomUUID(),
          frontend: binding.frontend,
          channel_id: binding.channelId,
          agent_id: binding.agentId,
          working_dir: binding.workingDir ?? "",
          created_at: binding.now,
          created_by: binding.createdBy ?? null,
        })
        .onConflict((oc) => oc.columns(["frontend", "channel_id"]).doNothing())
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : toBinding(row);
    },

    async updateAgent(id, agentId) {
      const row = await db
        .updateTable("bindings")
        .set({ agent_id: agentId })
        .where("binding_id", "=", id)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : toBinding(row);
    },

    async delete(id) {
      const result = await db.deleteFrom("bindings").where("binding_id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async deleteByChannel(frontend, channelId) {
      const result = await db
        .deleteFrom("bindings")
        .where("frontend", "=", frontend)
        .where("channel_id", "=", channelId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
