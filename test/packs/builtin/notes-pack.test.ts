// ABOUTME: builtin:notes through the router over a real migrated SQLite store (packs-mcp.md §5.2).
// ABOUTME: Upsert, byte-ordered key listing, per-agent isolation, the exact texts and the advertised schemas.
import { afterEach, describe, expect, it } from "vitest";
import { createNotesPack } from "../../../src/packs/builtin/notes-pack.js";
import type { TempDatabase } from "../../store/temp-database.js";
import { builtinHarness } from "./builtin-harness.js";

const open: TempDatabase[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.cleanup();
});

const setup = () => builtinHarness(createNotesPack, open);

describe("builtin:notes", () => {
  it("advertises four tools requiring capability notes with the spec's schemas", async () => {
    const { registry } = await setup();
    const tools = registry.toolsFor(["notes"]);
    expect(tools.map((t) => [t.name, t.description, t.inputSchemaJson, t.requiredCapabilities])).toEqual([
      ["note_delete", "Delete a note", '{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]}', ["notes"]],
      ["note_get", "Retrieve a note", '{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]}', ["notes"]],
      ["note_list", "List all note keys", '{"type":"object","properties":{}}', ["notes"]],
      [
        "note_set",
        "Store a note",
        '{"type":"object","properties":{"key":{"type":"string"},"value":{"type":"string"}},"required":["key","value"]}',
        ["notes"],
      ],
    ]);
  });

  it("sets, upserts, gets, lists in byte order and deletes, each with the exact output", async () => {
    const { call, clock, db } = await setup();
    expect(await call("a", "note_set", { key: "b", value: "1" })).toEqual({ outputJson: '{"key":"b","status":"saved"}' });
    clock.set("2026-03-14T10:00:00.000Z");
    expect(await call("a", "note_set", { key: "b", value: "2" })).toEqual({ outputJson: '{"key":"b","status":"saved"}' });
    const row = await db.selectFrom("agent_notes").selectAll().where("key", "=", "b").executeTakeFirstOrThrow();
    expect(row).toMatchObject({ value: "2", created_at: "2026-03-14T09:01:11.123Z", updated_at: "2026-03-14T10:00:00.000Z" });
    await call("a", "note_set", { key: "a", value: "" });
    await call("a", "note_set", { key: "B", value: "x" });
    await call("a", "note_set", { key: "é", value: "x" });
    expect(await call("a", "note_get", { key: "b" })).toEqual({ outputJson: '{"key":"b","value":"2"}' });
    expect(await call("a", "note_get", { key: "a" })).toEqual({ outputJson: '{"key":"a","value":""}' });
    expect(await call("a", "note_list", "{not json")).toEqual({ outputJson: '{"count":4,"keys":["B","a","b","é"]}' });
    expect(await call("a", "note_delete", { key: "b" })).toEqual({ outputJson: '{"key":"b","status":"deleted"}' });
    expect(await call("a", "note_get", { key: "b" })).toEqual({ error: "note not found" });
    expect(await call("a", "note_delete", { key: "b" })).toEqual({ error: "note not found" });
  });

  it("keeps each agent's notes private", async () => {
    const { call } = await setup();
    await call("a", "note_set", { key: "k", value: "mine" });
    expect(await call("b", "note_get", { key: "k" })).toEqual({ error: "note not found" });
    expect(await call("b", "note_delete", { key: "k" })).toEqual({ error: "note not found" });
    expect(await call("b", "note_list")).toEqual({ outputJson: '{"count":0,"keys":[]}' });
    await call("b", "note_set", { key: "k", value: "theirs" });
    expect(await call("a", "note_get", { key: "k" })).toEqual({ outputJson: '{"key":"k","value":"mine"}' });
  });

  it("answers the validation texts", async () => {
    const { call } = await setup();
    expect(await call("a", "note_set", { value: "v" })).toEqual({ error: "key is required" });
    expect(await call("a", "note_set", { key: "", value: "v" })).toEqual({ error: "key is required" });
    expect(await call("a", "note_get", {})).toEqual({ error: "key is required" });
    expect(await call("a", "note_delete", "")).toEqual({ error: "key is required" });
    expect(await call("a", "note_set", { key: 1 })).toEqual({ error: 'invalid input: field "key" must be of type string' });
  });
});
