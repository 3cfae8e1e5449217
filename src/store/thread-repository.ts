// ABOUTME: Reads and creates conversation threads (store.md §2, http-api.md §12).
// ABOUTME: Insert reports a lost race on the (frontend_name, external_id) key as undefined; no pre-check.
import type { Selectable } from "kysely";
import type { ThreadRow } from "./schema.js";
import { isUniqueViolation } from "./sqlite-errors.js";
import type { StoreExecutor } from "./transaction.js";

/** A conversation thread. `updatedAt` moves with every ledger event appended to it. */
export interface Thread {
  id: string;
  frontendName: string;
  externalId: string;
  agentId: string;
  createdAt: string;
  updatedAt: string;
}

export interface NewThread {
  id: string;
  frontendName: string;
  externalId: string;
  agentId: string;
  /** Normalised ISO timestamp used for created_at and updated_at. */
  now: string;
}

export interface ThreadRepository {
  findById(id: string): Promise<Thread | undefined>;
  findByPair(frontendName: string, externalId: string): Promise<Thread | undefined>;
  /** Inserts the thread; `undefined` when its id or its (frontend_name, external_id) pair is already taken. */
  insert(thread: NewThread): Promise<Thread | undefined>;
}

function toThread(row: Selectable<ThreadRow>): Thread {
  return {
    id: row.id,
    frontendName: row.frontend_name,
    externalId: row.external_id,
    agentId: row.agent_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Creates the thread repository over `db` (the database or a transaction, see transaction.ts). Methods throw
 * only unexpected driver errors, which edges report as INTERNAL.
 */
export function createThreadRepository(db: StoreExecutor): ThreadRepository {
  return {
    async findById(id) {
      const row = await db.selectFrom("threads").selectAll().where("id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : toThread(row);
    },

    async findByPair(frontendName, externalId) {
      const row = await db
        .selectFrom("threads")
        .selectAll()
        .where("frontend_name", "=", frontendName)
        .where("external_id", "=", externalId)
        .executeTakeFirst();
      return row === undefined ? undefined : toThread(row);
    },

    async insert(thread) {
      const row: ThreadRow = {
        id: thread.id,
        frontend_name: thread.frontendName,
        external_id: thread.externalId,
        agent_id: thread.agentId,
        created_at: thread.now,
        updated_at: thread.now,
      };
      try {
        await db.insertInto("threads").values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) return undefined;
        throw err;
      }
      return toThread(row);
    },
  };
}
