// ABOUTME: GET /api/agents/{id}/history: check order, limit and cursor rules, oldest-first paging to the end,
// ABOUTME: omitted keys and the agent's usage totals, over a real migrated SQLite ledger.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/store/cursor.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const NOW = "2024-01-15T10:30:00.123Z";

async function thread(harness: HttpHarness, agentId: string): Promise<string> {
  const id = randomUUID();
  await harness.threads.insert({ id, frontendName: "direct", externalId: id, agentId, now: NOW });
  return id;
}

async function get(url: string) {
  const res = await h!.app.inject({ method: "GET", url });
  return { status: res.statusCode, body: res.body, json: res.json() as Record<string, unknown> };
}

describe("GET /api/agents/{id}/history checks", () => {
  it("runs 405, path, limit, cursor in that order", async () => {
    h = await createHttpHarness();
    expect((await h.app.inject({ method: "POST", url: "/api/agents/a..b/history?limit=0&cursor=x" })).statusCode).toBe(405);
    expect((await get("/api/agents/a..b/history?limit=0&cursor=x")).json).toEqual({ error: "invalid path or agent_id" });
    expect((await get("/api/agents/a1/history?limit=0&cursor=x")).json).toEqual({ error: "limit must be a positive integer" });
    expect((await get("/api/agents/a1/history?cursor=x")).json).toEqual({ error: "invalid cursor" });
  });

  it.each(["0", "-1", "abc", "1.5", "1e3", " 5", "99999999999999999999"])("rejects limit=%s", async (limit) => {
    h = await createHttpHarness();
    const res = await get(`/api/agents/a1/history?limit=${encodeURIComponent(limit)}`);
    expect(res.status).toBe(400);
    expect(res.body).toBe('{"error":"limit must be a positive integer"}\n');
  });

  it.each(["c2VxOjE", "seq:1", Buffer.from("seq:-1").toString("base64"), Buffer.from("row:1").toString("base64")])(
    "rejects the undecodable cursor %s",
    async (cursor) => {
      h = await createHttpHarness();
      const res = await get(`/api/agents/a1/history?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: "invalid cursor" });
    },
  );

  it("answers an unknown agent with an empty page and zero usage", async () => {
    h = await createHttpHarness();
    const res = await get("/api/agents/nobody/history?cursor=&limit=");
    expect(res.status).toBe(200);
    expect(res.body).toBe(
      '{"agent_id":"nobody","events":[],"count":0,"has_more":false,"usage":{"total_input":0,"total_output":0,' +
        '"total_cache_read":0,"total_cache_write":0,"total_thinking":0,"total_tokens":0,"request_count":0}}\n',
    );
  });
});

describe("GET /api/agents/{id}/history pages", () => {
  it("pages oldest first with a cursor until has_more is false", async () => {
    h = await createHttpHarness();
    const threadId = await thread(h, "a1");
    const appended: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const event = await h.ledger.append({
        conversationKey: "a1",
        threadId: i === 0 ? null : threadId,
        direction: i % 2 === 0 ? "inbound_to_agent" : "outbound_from_agent",
        author: `author-${i}`,
        type: "message",
        text: i === 1 ? null : `text-${i}`,
      });
      appended.push(event.eventId);
      await h.ledger.append({ conversationKey: "other", direction: "inbound_to_agent", author: "x", type: "message", text: "noise" });
    }
    const seen: string[] = [];
    let url = "/api/agents/a1/history?limit=2";
    const pages: Array<Record<string, unknown>> = [];
    for (;;) {
      const page = (await get(url)).json;
      pages.push(page);
      seen.push(...(page.events as Array<{ id: string }>).map((e) => e.id));
      if (page.has_more !== true) break;
      url = `/api/agents/a1/history?limit=2&cursor=${encodeURIComponent(page.next_cursor as string)}`;
    }
    expect(seen).toEqual(appended);
    expect(pages.map((p) => [p.count, p.has_more])).toEqual([[2, true], [2, true], [1, false]]);
    expect(Object.keys(pages[0] ?? {})).toEqual(["agent_id", "events", "count", "has_more", "next_cursor", "usage"]);
    expect(Object.keys(pages[2] ?? {})).toEqual(["agent_id", "events", "count", "has_more", "usage"]);
    const [first, second] = pages[0]?.events as Array<Record<string, unknown>>;
    expect(Object.keys(first ?? {})).toEqual(["id", "direction", "author", "type", "timestamp", "text"]);
    expect(first).toMatchObject({ direction: "inbound_to_agent", author: "author-0", type: "message", text: "text-0" });
    expect(first?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Object.keys(second ?? {})).toEqual(["id", "direction", "author", "type", "timestamp", "thread_id"]);
    expect(second?.thread_id).toBe(threadId);
  });

  it("defaults to 50 and caps the limit at 500", async () => {
    h = await createHttpHarness();
    for (let i = 0; i < 501; i += 1) {
      await h.ledger.append({ conversationKey: "a1", direction: "inbound_to_agent", author: "x", type: "message", text: String(i) });
    }
    const byDefault = (await get("/api/agents/a1/history")).json;
    expect([byDefault.count, byDefault.has_more]).toEqual([50, true]);
    const capped = (await get("/api/agents/a1/history?limit=%2B9000")).json;
    expect([capped.count, capped.has_more]).toEqual([500, true]);
    const rest = (await get(`/api/agents/a1/history?limit=500&cursor=${encodeURIComponent(capped.next_cursor as string)}`)).json;
    expect(rest.events).toEqual([expect.objectContaining({ text: "500" })]);
    const past = (await get(`/api/agents/a1/history?cursor=${encodeURIComponent(encodeCursor(1_000_000))}`)).json;
    expect(past.events).toEqual([]);
  });

  it("reports the agent's usage totals: sums, total tokens without cache, distinct requests", async () => {
    h = await createHttpHarness();
    const threadId = await thread(h, "a1");
    const row = (requestId: string, agentId: string, n: number) =>
      h!.usage.insert({
        threadId,
        requestId,
        agentId,
        inputTokens: n,
        outputTokens: 2 * n,
        cacheReadTokens: 3 * n,
        cacheWriteTokens: 4 * n,
        thinkingTokens: 5 * n,
        createdAt: NOW,
      });
    await row("r1", "a1", 1);
    await row("r1", "a1", 10);
    await row("r2", "a1", 100);
    await row("r3", "a2", 1000);
    const res = await get("/api/agents/a1/history");
    expect(res.json.usage).toEqual({
      total_input: 111,
      total_output: 222,
      total_cache_read: 333,
      total_cache_write: 444,
      total_thinking: 555,
      total_tokens: 888,
      request_count: 2,
    });
    expect(Object.keys(res.json.usage as object)).toEqual([
      "total_input",
      "total_output",
      "total_cache_read",
      "total_cache_write",
      "total_thinking",
      "total_tokens",
      "request_count",
    ]);
  });
});
