// ABOUTME: builtin:base through the registry and router over a real migrated SQLite store (packs-mcp.md §5.1).
// ABOUTME: Checks validation messages in order, exact key-sorted outputs with `[]` for empty lists, and ownership.
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/lib/logger.js";
import { createBasePack } from "../../../src/packs/builtin/base-pack.js";
import { ToolRegistry } from "../../../src/packs/tool-registry.js";
import { createToolRouter, RouterError } from "../../../src/packs/tool-router.js";
import { createManualClock, openTempDatabase, type TempDatabase } from "../../store/temp-database.js";

const open: TempDatabase[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.cleanup();
});

async function setup() {
  const temp = await openTempDatabase();
  open.push(temp);
  const clock = createManualClock("2026-03-14T09:01:11.123Z");
  let n = 0;
  const ids = { uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}` };
  const registry = new ToolRegistry({ log: silentLogger });
  registry.registerBuiltin(createBasePack({ db: temp.store.db, clock, ids }));
  const router = createToolRouter({ registry, log: silentLogger });
  const call = (agentId: string, tool: string, input: unknown = "") =>
    router.route(tool, typeof input === "string" ? input : JSON.stringify(input), "req", { agentId }, new AbortController().signal);
  return { call, clock, registry };
}

describe("builtin:base", () => {
  it("registers ten tools requiring capability base", async () => {
    const { registry } = await setup();
    expect(registry.listPacks().map((p) => [p.id, p.version, p.tools.length])).toEqual([["builtin:base", "builtin", 10]]);
    expect(registry.toolsFor([])).toEqual([]);
    expect(registry.toolsFor(["base"]).every((t) => t.requiredCapabilities.join() === "base")).toBe(true);
  });

  it("parses input per §5.0", async () => {
    const { call } = await setup();
    expect(await call("a", "log_entry", "   ")).toEqual({ error: "message is required" });
    expect(await call("a", "log_entry", "[1]")).toEqual({ error: "invalid input: expected a JSON object" });
    expect((await call("a", "log_entry", "{x")) as { error: string }).toMatchObject({ error: expect.stringMatching(/^invalid input: /) });
    expect(await call("a", "log_search", { limit: "x" })).toEqual({ error: 'invalid input: field "limit" must be of type integer' });
    expect(await call("a", "log_search", { limit: 1.5 })).toEqual({ error: 'invalid input: field "limit" must be of type integer' });
    expect(await call("a", "log_entry", { message: 7 })).toEqual({ error: 'invalid input: field "message" must be of type string' });
  });

  it("logs and searches only the caller's entries, literally, newest first, with exact output", async () => {
    const { call, clock } = await setup();
    expect(await call("a", "log_entry", { message: "100% done", tags: ["x", "y"] })).toEqual({
      outputJson: '{"id":"00000000-0000-4000-8000-000000000001","status":"logged"}',
    });
    clock.set("2026-03-14T10:00:00.000Z");
    await call("a", "log_entry", { message: "1000 done" });
    await call("b", "log_entry", { message: "100% done by b" });
    expect(await call("a", "log_search", { query: "100%" })).toEqual({
      outputJson:
        '{"count":1,"entries":[{"agent_id":"a","created_at":"2026-03-14T09:01:11.123Z","id":"00000000-0000-4000-8000-000000000001","message":"100% done","tags":["x","y"]}]}',
    });
    const all = JSON.parse(((await call("a", "log_search", { query: "DONE" })) as { outputJson: string }).outputJson) as {
      entries: Array<{ message: string; tags: unknown }>;
    };
    expect(all.entries.map((e) => [e.message, e.tags])).toEqual([
      ["1000 done", []],
      ["100% done", ["x", "y"]],
    ]);
    expect(await call("a", "log_search", { since: "2026-03-14T11:00:00+01:00" })).toMatchObject({
      outputJson: expect.stringContaining('"count":1'),
    });
    expect(await call("a", "log_search", { since: "yesterday" })).toMatchObject({ error: expect.stringMatching(/^invalid since date: /) });
    expect(await call("c", "log_search")).toEqual({ outputJson: '{"count":0,"entries":[]}' });
  });

  it("validates todos in order and keeps them private to their agent", async () => {
    const { call, clock } = await setup();
    expect(await call("a", "todo_add", { priority: "urgent" })).toEqual({ error: "description is required" });
    expect(await call("a", "todo_add", { description: "d", priority: "urgent", due_date: "bad" })).toEqual({
      error: 'invalid priority "urgent": must be low, medium, or high',
    });
    expect(await call("a", "todo_add", { description: "d", due_date: "bad" })).toMatchObject({ error: expect.stringMatching(/^invalid due_date: /) });
    expect(await call("a", "todo_add", { description: "d", priority: "high", due_date: "2026-04-01T12:00:00+02:00" })).toEqual({
      outputJson: '{"id":"00000000-0000-4000-8000-000000000001","status":"created"}',
    });
    expect(await call("a", "todo_list", { status: "done" })).toEqual({
      error: 'invalid status "done": must be pending, in_progress, or completed',
    });
    expect(await call("a", "todo_list", { priority: "urgent" })).toEqual({
      error: 'invalid priority "urgent": must be low, medium, or high',
    });
    expect(await call("b", "todo_list")).toEqual({ outputJson: '{"count":0,"todos":[]}' });
    const id = "00000000-0000-4000-8000-000000000001";
    expect(await call("b", "todo_update", { id, status: "completed" })).toEqual({ error: "todo not found" });
    expect(await call("b", "todo_delete", { id })).toEqual({ error: "todo not found" });
    expect(await call("a", "todo_update", {})).toEqual({ error: "id is required" });
    expect(await call("a", "todo_update", { id, status: "nope" })).toEqual({
      error: 'invalid status "nope": must be pending, in_progress, or completed',
    });
    expect(await call("a", "todo_update", { id, priority: "asap" })).toEqual({
      error: 'invalid priority "asap": must be low, medium, or high',
    });
    expect(await call("a", "todo_update", { id, due_date: "soon" })).toMatchObject({ error: expect.stringMatching(/^invalid due_date: /) });
    expect(await call("a", "todo_delete", {})).toEqual({ error: "id is required" });
    clock.set("2026-03-15T00:00:00.000Z");
    expect(await call("a", "todo_update", { id, status: "in_progress", notes: "" })).toEqual({ outputJson: '{"status":"updated"}' });
    expect(await call("a", "todo_list", { status: "in_progress", priority: "high" })).toEqual({
      outputJson:
        '{"count":1,"todos":[{"agent_id":"a","created_at":"2026-03-14T09:01:11.123Z","description":"d","due_date":"2026-04-01T10:00:00.000Z","id":"00000000-0000-4000-8000-000000000001","notes":"","priority":"high","status":"in_progress","updated_at":"2026-03-15T00:00:00.000Z"}]}',
    });
    expect(await call("a", "todo_delete", { id })).toEqual({ outputJson: '{"status":"deleted"}' });
    expect(await call("a", "todo_delete", { id })).toEqual({ error: "todo not found" });
  });

  it("runs the global board: threads, replies, no reply to a reply", async () => {
    const { call } = await setup();
    expect(await call("a", "bbs_create_thread", { content: "c" })).toEqual({ error: "subject is required" });
    expect(await call("a", "bbs_create_thread", { subject: "s" })).toEqual({ error: "content is required" });
    expect(await call("a", "bbs_create_thread", { subject: "Hello", content: "first" })).toEqual({
      outputJson: '{"status":"created","thread_id":"00000000-0000-4000-8000-000000000001"}',
    });
    const thread = "00000000-0000-4000-8000-000000000001";
    expect(await call("b", "bbs_reply", { content: "x" })).toEqual({ error: "thread_id is required" });
    expect(await call("b", "bbs_reply", { thread_id: thread })).toEqual({ error: "content is required" });
    expect(await call("b", "bbs_reply", { thread_id: "missing", content: "x" })).toEqual({ error: "thread not found" });
    expect(await call("b", "bbs_reply", { thread_id: thread, content: "reply" })).toEqual({
      outputJson: '{"post_id":"00000000-0000-4000-8000-000000000002","status":"posted"}',
    });
    expect(await call("a", "bbs_reply", { thread_id: "00000000-0000-4000-8000-000000000002", content: "x" })).toEqual({
      error: "cannot reply to a reply, use original thread_id",
    });
    expect(await call("c", "bbs_list_threads")).toEqual({
      outputJson:
        '{"count":1,"threads":[{"agent_id":"a","content":"first","created_at":"2026-03-14T09:01:11.123Z","id":"00000000-0000-4000-8000-000000000001","subject":"Hello","thread_id":null}]}',
    });
    expect(await call("c", "bbs_read_thread", {})).toEqual({ error: "thread_id is required" });
    expect(await call("c", "bbs_read_thread", { thread_id: "missing" })).toEqual({ error: "thread not found" });
    expect(await call("c", "bbs_read_thread", { thread_id: "00000000-0000-4000-8000-000000000002" })).toEqual({
      outputJson:
        '{"post":{"agent_id":"b","content":"reply","created_at":"2026-03-14T09:01:11.123Z","id":"00000000-0000-4000-8000-000000000002","subject":"","thread_id":"00000000-0000-4000-8000-000000000001"},"replies":[]}',
    });
    expect(await call("c", "bbs_read_thread", { thread_id: thread })).toEqual({
      outputJson:
        '{"post":{"agent_id":"a","content":"first","created_at":"2026-03-14T09:01:11.123Z","id":"00000000-0000-4000-8000-000000000001","subject":"Hello","thread_id":null},' +
        '"replies":[{"agent_id":"b","content":"reply","created_at":"2026-03-14T09:01:11.123Z","id":"00000000-0000-4000-8000-000000000002","subject":"","thread_id":"00000000-0000-4000-8000-000000000001"}]}',
    });
  });

  it("raises RouterError tool not found for an unknown tool", async () => {
    const { call } = await setup();
    await expect(call("a", "nope")).rejects.toEqual(new RouterError("tool not found"));
  });
});
