// ABOUTME: GET /api/threads over a real SQLite store: newest updated_at first, last_message, agent_id filter,
// ABOUTME: opaque cursor paging without gaps or repeats, members limited to threads they took part in, errors.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { decodeThreadCursor, encodeThreadCursor } from "../../src/http/thread-routes.js";
import type { HttpPrincipal } from "../../src/http/http-auth.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Listed = { thread_id: string; agent_id: string; created_at: string; updated_at: string; last_message?: string };
type Page = { threads: Listed[]; has_more: boolean; next_cursor?: string };

async function thread(harness: HttpHarness, agentId: string, events: Array<{ type?: "message" | "system"; text: string; actor?: string }>) {
  const id = randomUUID();
  await harness.threads.insert({ id, frontendName: "direct", externalId: id, agentId, now: "2024-01-01T00:00:00.000Z" });
  for (const e of events) {
    await harness.ledger.append({
      conversationKey: agentId,
      threadId: id,
      direction: "inbound_to_agent",
      author: "someone",
      type: e.type ?? "message",
      text: e.text,
      actorPrincipalId: e.actor ?? null,
    });
  }
  return id;
}

async function list(query = ""): Promise<{ status: number; body: Page & { error?: string } }> {
  const res = await h!.app.inject({ method: "GET", url: `/api/threads${query}` });
  return { status: res.statusCode, body: res.json() as Page & { error?: string } };
}

function as(principal: HttpPrincipal) {
  return { deps: { auth: { authenticate: async () => principal } } };
}

describe("GET /api/threads", () => {
  it("lists threads newest updated_at first with their newest message text, filtered by agent_id", async () => {
    h = await createHttpHarness();
    const first = await thread(h, "alpha", [{ text: "hello alpha" }, { text: "bye alpha" }]);
    const quiet = await thread(h, "beta", [{ type: "system", text: "canceled: x" }]);
    const last = await thread(h, "alpha", [{ text: "newest" }]);
    const all = await list();
    expect(all.status).toBe(200);
    expect(all.body.has_more).toBe(false);
    expect(all.body.next_cursor).toBeUndefined();
    const ids = all.body.threads.map((t) => t.thread_id);
    expect(new Set(ids)).toEqual(new Set([first, quiet, last]));
    const sorted = [...all.body.threads].sort((a, b) => (a.updated_at === b.updated_at ? b.thread_id.localeCompare(a.thread_id) : b.updated_at.localeCompare(a.updated_at)));
    expect(ids).toEqual(sorted.map((t) => t.thread_id));
    expect(all.body.threads.find((t) => t.thread_id === first)).toEqual({
      thread_id: first,
      agent_id: "alpha",
      created_at: "2024-01-01T00:00:00.000Z",
      updated_at: expect.any(String),
      last_message: "bye alpha",
    });
    expect(all.body.threads.find((t) => t.thread_id === quiet)).not.toHaveProperty("last_message");
    const alpha = await list("?agent_id=alpha");
    expect(new Set(alpha.body.threads.map((t) => t.thread_id))).toEqual(new Set([first, last]));
  });

  it("pages with an opaque cursor: every thread exactly once, has_more false on the last page", async () => {
    h = await createHttpHarness();
    const made = new Set<string>();
    for (let i = 0; i < 7; i++) made.add(await thread(h, "pager", [{ text: `m${i}` }]));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await list(`?limit=3${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(page.status).toBe(200);
      pages++;
      seen.push(...page.body.threads.map((t) => t.thread_id));
      if (!page.body.has_more) {
        expect(page.body.next_cursor).toBeUndefined();
        break;
      }
      cursor = page.body.next_cursor;
      expect(typeof cursor).toBe("string");
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(made);
  });

  it("shows a member only the threads it took part in; an owner sees all", async () => {
    const mine = { id: "p-member", isAnonymous: false, roles: ["member"] };
    h = await createHttpHarness(as(mine));
    const joined = await thread(h, "agent", [{ text: "from me", actor: "p-member" }]);
    await thread(h, "agent", [{ text: "not me", actor: "p-other" }]);
    expect((await list()).body.threads.map((t) => t.thread_id)).toEqual([joined]);
    await h.close();
    h = await createHttpHarness(as({ id: "p-owner", isAnonymous: false, roles: ["owner"] }));
    await thread(h, "agent", [{ text: "a" }]);
    await thread(h, "agent", [{ text: "b", actor: "p-x" }]);
    expect((await list()).body.threads).toHaveLength(2);
  });

  it("answers 405 for other methods, and 400 for a bad limit or cursor", async () => {
    h = await createHttpHarness();
    const post = await h.app.inject({ method: "POST", url: "/api/threads" });
    expect(post.statusCode).toBe(405);
    expect(await list("?limit=0")).toEqual({ status: 400, body: { error: "limit must be a positive integer" } });
    expect(await list("?cursor=bogus!")).toEqual({ status: 400, body: { error: "invalid cursor" } });
    expect(await list(`?cursor=${Buffer.from('["only-one"]').toString("base64url")}`)).toEqual({ status: 400, body: { error: "invalid cursor" } });
  });

  it("round-trips its cursor and rejects anything it did not produce", () => {
    const position = { updatedAt: "2024-01-01T00:00:00.000Z", id: "t-1" };
    expect(decodeThreadCursor(encodeThreadCursor(position))).toEqual(position);
    expect(decodeThreadCursor(Buffer.from(JSON.stringify([1, 2])).toString("base64url"))).toBeUndefined();
    expect(decodeThreadCursor("")).toBeUndefined();
  });
});
