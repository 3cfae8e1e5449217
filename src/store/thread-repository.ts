// ABOUTME: Reads and creates conversation threads (store.md §2, http-api.md §12).
// ABOUTME: Insert reports a lost race on the (frontend_name, external_id) key as undefined; no pre-check.
import type { Selectable } from "kysely";
import type { ThreadRow } from "./schema.js";
import { isUniqueViolation } from "./sqlite-errors.js";
import type { StoreExecutor } from "./transaction.js";
import type { WriteContext } from "./write-batcher.js";

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

/** A thread in a listing, with the text of its newest `message` event when it has one. */
export interface ThreadSummary extends Thread {
  lastMessage: string | undefined;
}

/** Where a listing page starts: strictly after this (updated_at, id) in newest-first order. */
export interface ThreadListPosition {
  updatedAt: string;
  id: string;
}

export interface ThreadListQuery {
  /** Only threads of this agent. */
  agentId?: string | undefined;
  /** Only threads with at least one ledger event this principal acted in. */
  participantId?: string | undefined;
  after?: ThreadListPosition | undefined;
  limit: number;
}

export interface ThreadRepository {
  /** Threads newest `updated_at` first (ties by id, descending), at most `limit`. */
  list(query: ThreadListQuery): Promise<ThreadSummary[]>;
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
    async list(query) {
      let q = db
        .selectFrom("threads as t")
        .selectAll("t")
        .select((eb) =>
          eb
            .selectFrom("ledger_events as le")
            .select("le.text")
            .whereRef("le.thread_id", "=", "t.id")
            .where("le.type", "=", "message")
            .orderBy("le.seq", "desc")
            .limit(1)
            .as("last_message"),
        );
      if (query.agentId !== undefined) q = q.where("t.agent_id", "=", query.agentId);
      if (query.participantId !== undefined) {
        const participant = query.participantId;
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom("ledger_events as mine")
              .select("mine.seq")
              .whereRef("mine.thread_id", "=", "t.id")
              .where("mine.actor_principal_id", "=", participant),
          ),
        );
      }
      if (query.after !== undefined) {
        const { updatedAt, id } = query.after;
        q = q.where((eb) => eb.or([eb("t.updated_at", "<", updatedAt), eb.and([eb("t.updated_at", "=", updatedAt), eb("t.id", "<", id)])]));
      }
      const rows = await q.orderBy("t.updated_at", "desc").orderBy("t.id", "desc").limit(query.limit).execute();
      return rows.map((row) => ({ ...toThread(row), lastMessage: row.last_message ?? undefined }));
    },

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

/** The thread reads and the insert of the turn path, synchronous, for a `WriteBatcher` unit (write-batcher.ts). */
export interface ThreadWrites {
  findById(id: string): Thread | undefined;
  findByPair(frontendName: string, externalId: string): Thread | undefined;
  /** Inserts the thread; `undefined` when its id or its (frontend_name, external_id) pair is already taken. */
  insert(thread: NewThread): Thread | undefined;
}

const THREAD_BY_ID_SQL = "SELECT * FROM threads WHERE id = ?";
const THREAD_BY_PAIR_SQL = "SELECT * FROM threads WHERE frontend_name = ? AND external_id = ?";
const INSERT_THREAD_SQL =
  "INSERT INTO threads (id, frontend_name, external_id, agent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)";

/** The same reads and insert as `createThreadRepository`, as prepared statements inside the caller's transaction. */
export function threadWrites(ctx: WriteContext): ThreadWrites {
  const found = (row: unknown) => (row === undefined ? undefined : toThread(row as Selectable<ThreadRow>));
  return {
    findById: (id) => found(ctx.statement(THREAD_BY_ID_SQL).get(id)),
    findByPair: (frontendName, externalId) => found(ctx.statement(THREAD_BY_PAIR_SQL).get(frontendName, externalId)),
    insert(thread) {
      try {
        ctx.statement(INSERT_THREAD_SQL).run(thread.id, thread.frontendName, thread.externalId, thread.agentId, thread.now, thread.now);
      } catch (err) {
        if (isUniqueViolation(err)) return undefined;
        throw err;
      }
      return { id: thread.id, frontendName: thread.frontendName, externalId: thread.externalId, agentId: thread.agentId, createdAt: thread.now, updatedAt: thread.now };
    },
  };
}
