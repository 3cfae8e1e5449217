// ABOUTME: The `builtin:mail` pack (packs-mcp.md §5.3): agent-to-agent mail addressed by free-form agent_id strings.
// ABOUTME: The inbox and reads are scoped to the caller as recipient; mail_read marks read once and returns the row after.
import { sql, type Kysely, type Selectable } from "kysely";
import { isoTimestamp, type Clock } from "../../lib/clock.js";
import type { IdSource } from "../../lib/ids.js";
import type { AgentMailRow, Database } from "../../store/schema.js";
import { optionalBoolean, optionalInteger, optionalString } from "../tool-input.js";
import type { BuiltinPack, BuiltinTool } from "../tool-registry.js";
import { ToolError } from "../tool-error.js";
import { bool, builtinTool, int, obj, str } from "./tool-schema.js";

export interface MailPackOptions {
  db: Kysely<Database>;
  clock: Clock;
  ids: IdSource;
}

const def = (name: string, description: string, schema: object) => builtinTool("mail", name, description, schema);

const mail = (row: Selectable<AgentMailRow>) => ({
  content: row.content,
  created_at: row.created_at,
  from_agent_id: row.from_agent_id,
  id: row.id,
  read_at: row.read_at,
  subject: row.subject,
  to_agent_id: row.to_agent_id,
});

/** Builds the three `builtin:mail` tools over the `agent_mail` table. */
export function createMailPack(options: MailPackOptions): BuiltinPack {
  const { db, clock, ids } = options;
  const tools: BuiltinTool[] = [
    {
      definition: def("mail_send", "Send message to another agent", obj({ to_agent_id: str, subject: str, content: str }, ["to_agent_id", "subject", "content"])),
      handler: async (caller, input) => {
        const to = optionalString(input, "to_agent_id");
        const subject = optionalString(input, "subject");
        const content = optionalString(input, "content");
        if (!to) throw new ToolError("to_agent_id is required");
        if (!subject) throw new ToolError("subject is required");
        if (!content) throw new ToolError("content is required");
        const id = ids.uuid();
        await db
          .insertInto("agent_mail")
          .values({ id, from_agent_id: caller.agentId, to_agent_id: to, subject, content, read_at: null, created_at: isoTimestamp(clock.now()) })
          .execute();
        return { id, status: "sent" };
      },
    },
    {
      definition: def("mail_inbox", "List received messages", obj({ limit: int, unread_only: bool })),
      handler: async (caller, input) => {
        const requested = optionalInteger(input, "limit");
        const unreadOnly = optionalBoolean(input, "unread_only") ?? false;
        const limit = requested === undefined || requested <= 0 ? 20 : Math.min(requested, 500);
        let q = db.selectFrom("agent_mail").selectAll().where("to_agent_id", "=", caller.agentId);
        if (unreadOnly) q = q.where("read_at", "is", null);
        const rows = await q.orderBy("created_at", "desc").orderBy(sql`rowid`, "desc").limit(limit).execute();
        return { count: rows.length, messages: rows.map(mail) };
      },
    },
    {
      definition: def("mail_read", "Read and mark message as read", obj({ message_id: str }, ["message_id"])),
      handler: async (caller, input) => {
        const messageId = optionalString(input, "message_id");
        if (!messageId) throw new ToolError("message_id is required");
        await db
          .updateTable("agent_mail")
          .set({ read_at: isoTimestamp(clock.now()) })
          .where("id", "=", messageId)
          .where("to_agent_id", "=", caller.agentId)
          .where("read_at", "is", null)
          .execute();
        const row = await db.selectFrom("agent_mail").selectAll().where("id", "=", messageId).where("to_agent_id", "=", caller.agentId).executeTakeFirst();
        if (!row) throw new ToolError("message not found");
        return mail(row);
      },
    },
  ];
  return { id: "builtin:mail", tools };
}
