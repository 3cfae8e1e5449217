// ABOUTME: The `builtin:base` pack (packs-mcp.md §5.1): private activity log and todos, and the global board.
// ABOUTME: Handlers validate in the spec's order and answer key-sorted snake_case objects with `[]` for empty lists.
import { sql, type Kysely } from "kysely";
import type { ToolDefinition } from "../../agent/agent-frames.js";
import { isoTimestamp, type Clock } from "../../lib/clock.js";
import type { IdSource } from "../../lib/ids.js";
import { parseRfc3339 } from "../../lib/rfc3339.js";
import type { BbsPostRow, Database, LogEntryRow, TodoRow } from "../../store/schema.js";
import { optionalInteger, optionalString, optionalStringArray } from "../tool-input.js";
import type { BuiltinHandler, BuiltinPack } from "../tool-registry.js";
import { ToolError } from "../tool-error.js";
import { builtinTool, dateTime, int, obj, str } from "./tool-schema.js";

export interface BasePackOptions {
  db: Kysely<Database>;
  clock: Clock;
  ids: IdSource;
}

const STATUSES = ["pending", "in_progress", "completed"] as const;
const PRIORITIES = ["low", "medium", "high"] as const;

const def = (name: string, description: string, schema: object): ToolDefinition => builtinTool("base", name, description, schema);

const statusEnum = { type: "string", enum: [...STATUSES] };
const priorityEnum = { type: "string", enum: [...PRIORITIES] };

function checkPriority(value: string | undefined): void {
  if (value && !(PRIORITIES as readonly string[]).includes(value)) {
    throw new ToolError(`invalid priority ${JSON.stringify(value)}: must be low, medium, or high`);
  }
}

function checkStatus(value: string | undefined): void {
  if (value && !(STATUSES as readonly string[]).includes(value)) {
    throw new ToolError(`invalid status ${JSON.stringify(value)}: must be pending, in_progress, or completed`);
  }
}

function parseDate(value: string | undefined, label: string): string | undefined {
  if (!value) return undefined;
  const parsed = parseRfc3339(value);
  if (parsed === undefined) throw new ToolError(`${label}: parsing time ${JSON.stringify(value)} as RFC 3339 failed`);
  return parsed;
}

function clampLimit(limit: number | undefined, max: number): number {
  if (limit === undefined || limit <= 0) return 50;
  return Math.min(limit, max);
}

const logEntry = (row: LogEntryRow) => ({
  agent_id: row.agent_id,
  created_at: row.created_at,
  id: row.id,
  message: row.message,
  tags: row.tags === null ? [] : (JSON.parse(row.tags) as string[]),
});

const todo = (row: Pick<TodoRow, "id" | "agent_id" | "description" | "notes" | "due_date" | "created_at" | "updated_at"> & { status: string; priority: string }) => ({
  agent_id: row.agent_id,
  created_at: row.created_at,
  description: row.description,
  due_date: row.due_date,
  id: row.id,
  notes: row.notes ?? "",
  priority: row.priority,
  status: row.status,
  updated_at: row.updated_at,
});

const post = (row: BbsPostRow) => ({
  agent_id: row.agent_id,
  content: row.content,
  created_at: row.created_at,
  id: row.id,
  subject: row.subject ?? "",
  thread_id: row.thread_id,
});

/** Builds the ten `builtin:base` tools over the store. */
export function createBasePack(options: BasePackOptions): BuiltinPack {
  const { db, clock, ids } = options;
  const now = () => isoTimestamp(clock.now());

  const ownedTodo = async (agentId: string, id: string) => {
    const row = await db.selectFrom("todos").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row || row.agent_id !== agentId) throw new ToolError("todo not found");
    return row;
  };

  const handlers: Array<[ToolDefinition, BuiltinHandler]> = [
    [
      def("log_entry", "Log an activity or event", obj({ message: str, tags: { type: "array", items: str } }, ["message"])),
      async (caller, input) => {
        const message = optionalString(input, "message");
        const tags = optionalStringArray(input, "tags");
        if (!message) throw new ToolError("message is required");
        const id = ids.uuid();
        await db
          .insertInto("log_entries")
          .values({ id, agent_id: caller.agentId, message, tags: tags && tags.length > 0 ? JSON.stringify(tags) : null, created_at: now() })
          .execute();
        return { id, status: "logged" };
      },
    ],
    [
      def("log_search", "Search past log entries", obj({ query: str, since: dateTime, limit: int })),
      async (caller, input) => {
        const query = optionalString(input, "query");
        const sinceText = optionalString(input, "since");
        const limit = clampLimit(optionalInteger(input, "limit"), 500);
        const since = parseDate(sinceText, "invalid since date");
        let q = db.selectFrom("log_entries").selectAll().where("agent_id", "=", caller.agentId);
        if (query) {
          const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
          q = q.where(sql<boolean>`message LIKE ${pattern} ESCAPE '\\'`);
        }
        if (since) q = q.where("created_at", ">=", since);
        const rows = await q.orderBy("created_at", "desc").orderBy(sql`rowid`, "desc").limit(limit).execute();
        return { count: rows.length, entries: rows.map(logEntry) };
      },
    ],
    [
      def(
        "todo_add",
        "Create a todo",
        obj({ description: str, priority: priorityEnum, due_date: dateTime, notes: str }, ["description"]),
      ),
      async (caller, input) => {
        const description = optionalString(input, "description");
        const priority = optionalString(input, "priority");
        const dueText = optionalString(input, "due_date");
        const notes = optionalString(input, "notes");
        if (!description) throw new ToolError("description is required");
        checkPriority(priority);
        const dueDate = parseDate(dueText, "invalid due_date");
        const id = ids.uuid();
        const at = now();
        await db
          .insertInto("todos")
          .values({
            id,
            agent_id: caller.agentId,
            description,
            status: "pending",
            priority: (priority || "medium") as (typeof PRIORITIES)[number],
            notes: notes ?? "",
            due_date: dueDate ?? null,
            created_at: at,
            updated_at: at,
          })
          .execute();
        return { id, status: "created" };
      },
    ],
    [
      def("todo_list", "List todos", obj({ status: statusEnum, priority: priorityEnum })),
      async (caller, input) => {
        const status = optionalString(input, "status");
        const priority = optionalString(input, "priority");
        checkStatus(status);
        checkPriority(priority);
        let q = db.selectFrom("todos").selectAll().where("agent_id", "=", caller.agentId);
        if (status) q = q.where("status", "=", status as (typeof STATUSES)[number]);
        if (priority) q = q.where("priority", "=", priority as (typeof PRIORITIES)[number]);
        const rows = await q.orderBy("created_at", "desc").orderBy(sql`rowid`, "desc").execute();
        return { count: rows.length, todos: rows.map(todo) };
      },
    ],
    [
      def(
        "todo_update",
        "Update a todo",
        obj({ id: str, status: statusEnum, priority: priorityEnum, notes: str, due_date: dateTime }, ["id"]),
      ),
      async (caller, input) => {
        const id = optionalString(input, "id");
        const status = optionalString(input, "status");
        const priority = optionalString(input, "priority");
        const notes = optionalString(input, "notes");
        const dueText = optionalString(input, "due_date");
        if (!id) throw new ToolError("id is required");
        await ownedTodo(caller.agentId, id);
        checkStatus(status);
        checkPriority(priority);
        const dueDate = parseDate(dueText, "invalid due_date");
        await db
          .updateTable("todos")
          .set({
            updated_at: now(),
            ...(status ? { status: status as (typeof STATUSES)[number] } : {}),
            ...(priority ? { priority: priority as (typeof PRIORITIES)[number] } : {}),
            ...(notes ? { notes } : {}),
            ...(dueDate ? { due_date: dueDate } : {}),
          })
          .where("id", "=", id)
          .where("agent_id", "=", caller.agentId)
          .execute();
        return { status: "updated" };
      },
    ],
    [
      def("todo_delete", "Delete a todo", obj({ id: str }, ["id"])),
      async (caller, input) => {
        const id = optionalString(input, "id");
        if (!id) throw new ToolError("id is required");
        const result = await db.deleteFrom("todos").where("id", "=", id).where("agent_id", "=", caller.agentId).executeTakeFirst();
        if (result.numDeletedRows === 0n) throw new ToolError("todo not found");
        return { status: "deleted" };
      },
    ],
    [
      def("bbs_create_thread", "Create a new discussion thread", obj({ subject: str, content: str }, ["subject", "content"])),
      async (caller, input) => {
        const subject = optionalString(input, "subject");
        const content = optionalString(input, "content");
        if (!subject) throw new ToolError("subject is required");
        if (!content) throw new ToolError("content is required");
        const id = ids.uuid();
        await db.insertInto("bbs_posts").values({ id, agent_id: caller.agentId, thread_id: null, subject, content, created_at: now() }).execute();
        return { status: "created", thread_id: id };
      },
    ],
    [
      def("bbs_reply", "Reply to a thread", obj({ thread_id: str, content: str }, ["thread_id", "content"])),
      async (caller, input) => {
        const threadId = optionalString(input, "thread_id");
        const content = optionalString(input, "content");
        if (!threadId) throw new ToolError("thread_id is required");
        if (!content) throw new ToolError("content is required");
        const id = await db.transaction().execute(async (trx) => {
          const parent = await trx.selectFrom("bbs_posts").select(["thread_id"]).where("id", "=", threadId).executeTakeFirst();
          if (!parent) throw new ToolError("thread not found");
          if (parent.thread_id !== null) throw new ToolError("cannot reply to a reply, use original thread_id");
          const id = ids.uuid();
          await trx.insertInto("bbs_posts").values({ id, agent_id: caller.agentId, thread_id: threadId, subject: null, content, created_at: now() }).execute();
          return id;
        });
        return { post_id: id, status: "posted" };
      },
    ],
    [
      def("bbs_list_threads", "List discussion threads", obj({ limit: int })),
      async (_caller, input) => {
        const limit = clampLimit(optionalInteger(input, "limit"), 200);
        const rows = await db
          .selectFrom("bbs_posts")
          .selectAll()
          .where("thread_id", "is", null)
          .orderBy("created_at", "desc")
          .orderBy(sql`rowid`, "desc")
          .limit(limit)
          .execute();
        return { count: rows.length, threads: rows.map(post) };
      },
    ],
    [
      def("bbs_read_thread", "Read a thread with replies", obj({ thread_id: str }, ["thread_id"])),
      async (_caller, input) => {
        const threadId = optionalString(input, "thread_id");
        if (!threadId) throw new ToolError("thread_id is required");
        const head = await db.selectFrom("bbs_posts").selectAll().where("id", "=", threadId).executeTakeFirst();
        if (!head) throw new ToolError("thread not found");
        const replies = await db
          .selectFrom("bbs_posts")
          .selectAll()
          .where("thread_id", "=", threadId)
          .orderBy("created_at", "asc")
          .orderBy(sql`rowid`, "asc")
          .execute();
        return { post: post(head), replies: replies.map(post) };
      },
    ],
  ];

  return { id: "builtin:base", tools: handlers.map(([definition, handler]) => ({ definition, handler })) };
}
