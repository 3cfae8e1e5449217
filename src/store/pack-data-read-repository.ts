// ABOUTME: Read-only, cross-agent queries over the builtin:base pack's tables (activity log, todos, board) for the
// ABOUTME: web admin's pages (web-admin.md §5.11-5.13); the pack itself only ever reads one agent's rows.
import { sql } from "kysely";
import type { StoreExecutor } from "./transaction.js";

export interface LogListing {
  id: string;
  agentId: string;
  message: string;
  tags: string[];
  createdAt: string;
}

export interface TodoListing {
  id: string;
  agentId: string;
  description: string;
  status: string;
  priority: string;
  dueDate: string | undefined;
  notes: string | undefined;
  updatedAt: string;
}

export interface BoardPost {
  id: string;
  agentId: string;
  subject: string;
  content: string;
  createdAt: string;
}

export interface BoardThreadListing extends BoardPost {
  replies: number;
}

export interface PackDataReadRepository {
  /** Log entries of every agent, newest first; `query` is a literal substring of the message. */
  logs(input: { query?: string | undefined; limit: number }): Promise<LogListing[]>;
  /** Todos of every agent, most recently updated first. */
  todos(limit: number): Promise<TodoListing[]>;
  /** Top-level board posts, newest first, with their reply counts. */
  boardThreads(limit: number): Promise<BoardThreadListing[]>;
  /** A top-level post and its replies oldest first; undefined when `id` is not a top-level post. */
  boardThread(id: string): Promise<{ post: BoardPost; replies: BoardPost[] } | undefined>;
}

/** Tags are stored as a JSON array of strings; anything else reads as no tags (never throws on old rows). */
function parseTags(raw: string | null): string[] {
  if (raw === null || raw === "") return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === "string") : [];
  } catch {
    return [];
  }
}

const toPost = (r: { id: string; agent_id: string; subject: string | null; content: string; created_at: string }): BoardPost => ({
  id: r.id,
  agentId: r.agent_id,
  subject: r.subject ?? "",
  content: r.content,
  createdAt: r.created_at,
});

export function createPackDataReadRepository(db: StoreExecutor): PackDataReadRepository {
  return {
    async logs({ query, limit }) {
      let q = db.selectFrom("log_entries").selectAll();
      if (query) {
        const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        q = q.where(sql<boolean>`message LIKE ${pattern} ESCAPE '\\'`);
      }
      const rows = await q.orderBy("created_at", "desc").orderBy(sql`rowid`, "desc").limit(limit).execute();
      return rows.map((r) => ({ id: r.id, agentId: r.agent_id, message: r.message, tags: parseTags(r.tags), createdAt: r.created_at }));
    },
    async todos(limit) {
      const rows = await db.selectFrom("todos").selectAll().orderBy("updated_at", "desc").orderBy(sql`rowid`, "desc").limit(limit).execute();
      return rows.map((r) => ({
        id: r.id,
        agentId: r.agent_id,
        description: r.description,
        status: String(r.status),
        priority: String(r.priority),
        dueDate: r.due_date ?? undefined,
        notes: r.notes ?? undefined,
        updatedAt: r.updated_at,
      }));
    },
    async boardThreads(limit) {
      const rows = await db
        .selectFrom("bbs_posts as p")
        .select([
          "p.id",
          "p.agent_id",
          "p.subject",
          "p.content",
          "p.created_at",
          sql<number>`(select count(*) from bbs_posts r where r.thread_id = p.id)`.as("replies"),
        ])
        .where("p.thread_id", "is", null)
        .orderBy("p.created_at", "desc")
        .orderBy(sql`p.rowid`, "desc")
        .limit(limit)
        .execute();
      return rows.map((r) => ({ ...toPost(r), replies: Number(r.replies) }));
    },
    async boardThread(id) {
      const head = await db.selectFrom("bbs_posts").selectAll().where("id", "=", id).where("thread_id", "is", null).executeTakeFirst();
      if (head === undefined) return undefined;
      const replies = await db
        .selectFrom("bbs_posts")
        .selectAll()
        .where("thread_id", "=", id)
        .orderBy("created_at", "asc")
        .orderBy(sql`rowid`, "asc")
        .execute();
      return { post: toPost(head), replies: replies.map(toPost) };
    },
  };
}
