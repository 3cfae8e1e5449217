// ABOUTME: The `builtin:notes` pack (packs-mcp.md §5.2): a key/value map private to each caller agent_id.
// ABOUTME: note_set upserts (only value and updated_at change); note_list ignores its input entirely.
import type { Kysely } from "kysely";
import { isoTimestamp, type Clock } from "../../lib/clock.js";
import type { IdSource } from "../../lib/ids.js";
import type { Database } from "../../store/schema.js";
import { optionalString } from "../tool-input.js";
import type { BuiltinPack, BuiltinTool } from "../tool-registry.js";
import { ToolError } from "../tool-error.js";
import { builtinTool, obj, str } from "./tool-schema.js";

export interface NotesPackOptions {
  db: Kysely<Database>;
  clock: Clock;
  ids: IdSource;
}

const def = (name: string, description: string, schema: object) => builtinTool("notes", name, description, schema);

/** Builds the four `builtin:notes` tools over the `agent_notes` table. */
export function createNotesPack(options: NotesPackOptions): BuiltinPack {
  const { db, clock, ids } = options;
  const requireKey = (input: Record<string, unknown>) => {
    const key = optionalString(input, "key");
    if (!key) throw new ToolError("key is required");
    return key;
  };

  const tools: BuiltinTool[] = [
    {
      definition: def("note_set", "Store a note", obj({ key: str, value: str }, ["key", "value"])),
      handler: async (caller, input) => {
        const key = optionalString(input, "key");
        const value = optionalString(input, "value") ?? "";
        if (!key) throw new ToolError("key is required");
        const now = isoTimestamp(clock.now());
        await db
          .insertInto("agent_notes")
          .values({ id: ids.uuid(), agent_id: caller.agentId, key, value, created_at: now, updated_at: now })
          .onConflict((oc) => oc.columns(["agent_id", "key"]).doUpdateSet({ value, updated_at: now }))
          .execute();
        return { key, status: "saved" };
      },
    },
    {
      definition: def("note_get", "Retrieve a note", obj({ key: str }, ["key"])),
      handler: async (caller, input) => {
        const key = requireKey(input);
        const row = await db
          .selectFrom("agent_notes")
          .select(["value"])
          .where("agent_id", "=", caller.agentId)
          .where("key", "=", key)
          .executeTakeFirst();
        if (!row) throw new ToolError("note not found");
        return { key, value: row.value };
      },
    },
    {
      definition: def("note_list", "List all note keys", obj({})),
      handler: async (caller) => {
        // SQLite's default BINARY collation compares UTF-8 bytes: byte order, not the locale's.
        const rows = await db.selectFrom("agent_notes").select(["key"]).where("agent_id", "=", caller.agentId).orderBy("key").execute();
        const keys = rows.map((r) => r.key);
        return { count: keys.length, keys };
      },
      ignoresInput: true,
    },
    {
      definition: def("note_delete", "Delete a note", obj({ key: str }, ["key"])),
      handler: async (caller, input) => {
        const key = requireKey(input);
        const result = await db.deleteFrom("agent_notes").where("agent_id", "=", caller.agentId).where("key", "=", key).executeTakeFirst();
        if (result.numDeletedRows === 0n) throw new ToolError("note not found");
        return { key, status: "deleted" };
      },
    },
  ];
  return { id: "builtin:notes", tools };
}
