// ABOUTME: builtin:mail through the router over a real migrated SQLite store (packs-mcp.md §5.3).
// ABOUTME: Send, inbox filters and limits, mail_read marking once and returning the row after, recipient isolation.
import { afterEach, describe, expect, it } from "vitest";
import { createMailPack } from "../../../src/packs/builtin/mail-pack.js";
import type { TempDatabase } from "../../store/temp-database.js";
import { builtinHarness } from "./builtin-harness.js";

const open: TempDatabase[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.cleanup();
});

const setup = () => builtinHarness(createMailPack, open);
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("builtin:mail", () => {
  it("advertises three tools requiring capability mail", async () => {
    const { registry } = await setup();
    expect(registry.toolsFor(["mail"]).map((t) => [t.name, t.description, t.inputSchemaJson])).toEqual([
      ["mail_inbox", "List received messages", '{"type":"object","properties":{"limit":{"type":"integer"},"unread_only":{"type":"boolean"}}}'],
      ["mail_read", "Read and mark message as read", '{"type":"object","properties":{"message_id":{"type":"string"}},"required":["message_id"]}'],
      [
        "mail_send",
        "Send message to another agent",
        '{"type":"object","properties":{"to_agent_id":{"type":"string"},"subject":{"type":"string"},"content":{"type":"string"}},"required":["to_agent_id","subject","content"]}',
      ],
    ]);
  });

  it("sends to any agent id, lists the inbox newest first, and reads once, returning the row after marking", async () => {
    const { call, clock } = await setup();
    expect(await call("alice", "mail_send", { to_agent_id: "bob", subject: "s1", content: "c1" })).toEqual({
      outputJson: `{"id":"${id(1)}","status":"sent"}`,
    });
    clock.set("2026-03-14T10:00:00.000Z");
    await call("alice", "mail_send", { to_agent_id: "bob", subject: "s2", content: "c2" });
    expect(await call("bob", "mail_inbox")).toEqual({
      outputJson:
        `{"count":2,"messages":[{"content":"c2","created_at":"2026-03-14T10:00:00.000Z","from_agent_id":"alice","id":"${id(2)}","read_at":null,"subject":"s2","to_agent_id":"bob"},` +
        `{"content":"c1","created_at":"2026-03-14T09:01:11.123Z","from_agent_id":"alice","id":"${id(1)}","read_at":null,"subject":"s1","to_agent_id":"bob"}]}`,
    });
    clock.set("2026-03-14T11:00:00.000Z");
    expect(await call("bob", "mail_read", { message_id: id(1) })).toEqual({
      outputJson: `{"content":"c1","created_at":"2026-03-14T09:01:11.123Z","from_agent_id":"alice","id":"${id(1)}","read_at":"2026-03-14T11:00:00.000Z","subject":"s1","to_agent_id":"bob"}`,
    });
    clock.set("2026-03-14T12:00:00.000Z");
    const again = JSON.parse(((await call("bob", "mail_read", { message_id: id(1) })) as { outputJson: string }).outputJson) as { read_at: string };
    expect(again.read_at).toBe("2026-03-14T11:00:00.000Z");
    const unread = JSON.parse(((await call("bob", "mail_inbox", { unread_only: true })) as { outputJson: string }).outputJson) as {
      count: number;
      messages: Array<{ id: string }>;
    };
    expect(unread.messages.map((m) => m.id)).toEqual([id(2)]);
    const limited = JSON.parse(((await call("bob", "mail_inbox", { limit: 1 })) as { outputJson: string }).outputJson) as { count: number };
    expect(limited.count).toBe(1);
    expect(await call("carol", "mail_inbox")).toEqual({ outputJson: '{"count":0,"messages":[]}' });
  });

  it("hides mail not addressed to the caller, even from its sender", async () => {
    const { call } = await setup();
    await call("alice", "mail_send", { to_agent_id: "bob", subject: "s", content: "c" });
    expect(await call("alice", "mail_read", { message_id: id(1) })).toEqual({ error: "message not found" });
    expect(await call("bob", "mail_read", { message_id: "nope" })).toEqual({ error: "message not found" });
    expect(await call("alice", "mail_inbox")).toEqual({ outputJson: '{"count":0,"messages":[]}' });
  });

  it("answers the validation texts in order", async () => {
    const { call } = await setup();
    expect(await call("a", "mail_send", {})).toEqual({ error: "to_agent_id is required" });
    expect(await call("a", "mail_send", { to_agent_id: "b" })).toEqual({ error: "subject is required" });
    expect(await call("a", "mail_send", { to_agent_id: "b", subject: "s" })).toEqual({ error: "content is required" });
    expect(await call("a", "mail_read", {})).toEqual({ error: "message_id is required" });
    expect(await call("a", "mail_inbox", { unread_only: "yes" })).toEqual({ error: 'invalid input: field "unread_only" must be of type boolean' });
  });

  it("caps the inbox limit at 500 and defaults to 20", async () => {
    const { call } = await setup();
    for (let i = 0; i < 25; i += 1) await call("a", "mail_send", { to_agent_id: "b", subject: "s", content: `c${i}` });
    const count = async (input: object) =>
      (JSON.parse(((await call("b", "mail_inbox", input)) as { outputJson: string }).outputJson) as { count: number }).count;
    expect(await count({})).toBe(20);
    expect(await count({ limit: 0 })).toBe(20);
    expect(await count({ limit: 10_000 })).toBe(25);
  });
});
