// ABOUTME: GET /api/threads/{id}/messages and /usage: suffix dispatch, check order with exact strings, the ledger
// ABOUTME: type mapping table (legacy rows included), newest-limit paging, and usage rows over a real SQLite store.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { toolCallText, toolResultText } from "../../src/conversation/tool-text.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import type { NewLedgerEvent } from "../../src/store/ledger-repository.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const NOW = "2024-01-15T10:30:00.123Z";

async function newThread(harness: HttpHarness, agentId = "a1"): Promise<string> {
  const id = randomUUID();
  await harness.threads.insert({ id, frontendName: "direct", externalId: id, agentId, now: NOW });
  return id;
}

async function append(harness: HttpHarness, threadId: string, event: Partial<NewLedgerEvent>) {
  return harness.ledger.append({
    conversationKey: "a1",
    threadId,
    direction: "outbound_from_agent",
    author: "a1",
    type: "message",
    ...event,
  });
}

async function get(url: string, method: "GET" | "POST" | "DELETE" = "GET") {
  const res = await h!.app.inject({ method, url });
  return { status: res.statusCode, body: res.body, json: () => res.json() as Record<string, unknown> };
}

describe("/api/threads/ dispatch", () => {
  it("answers 404 unknown endpoint for any other suffix, before the method check", async () => {
    h = await createHttpHarness();
    const id = await newThread(h);
    for (const url of [`/api/threads/${id}/events`, `/api/threads/${id}`, "/api/threads/", `/api/threads/${id}/messages/`]) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
      expect(res.body, url).toBe('{"error":"unknown endpoint"}\n');
    }
    expect((await get(`/api/threads/${id}/events`, "POST")).body).toBe('{"error":"unknown endpoint"}\n');
  });

  it("runs after auth", async () => {
    h = await createHttpHarness({
      deps: {
        auth: {
          authenticate: async () => {
            throw new GatewayError("UNAUTHENTICATED", "empty token");
          },
        },
      },
    });
    const res = await get("/api/threads/x/bogus");
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ error: "empty token" });
  });
});

describe("GET /api/threads/{id}/messages checks", () => {
  it("runs 405, path, UUID format, limit, existence in that order", async () => {
    h = await createHttpHarness();
    const unknown = randomUUID();
    const post = await get("/api/threads/a..b/messages?limit=0", "POST");
    expect([post.status, post.body]).toEqual([405, ""]);
    expect((await get("/api/threads/a..b/messages?limit=0")).json()).toEqual({ error: "invalid path" });
    expect((await get("/api/threads/messages?limit=0")).json()).toEqual({ error: "invalid path" });
    expect((await get("/api/threads/a%2Fb/messages?limit=0")).json()).toEqual({ error: "invalid path" });
    expect((await get("/api/threads/not-a-uuid/messages?limit=0")).json()).toEqual({ error: "invalid thread_id format" });
    expect((await get(`/api/threads/${unknown}x/messages?limit=0`)).json()).toEqual({ error: "invalid thread_id format" });
    expect((await get(`/api/threads/${unknown}/messages?limit=0`)).json()).toEqual({ error: "limit must be a positive integer" });
    expect((await get(`/api/threads/${unknown}/messages?limit=x`)).json()).toEqual({ error: "limit must be a positive integer" });
    const missing = await get(`/api/threads/${unknown.toUpperCase()}/messages`);
    expect([missing.status, missing.body]).toEqual([404, '{"error":"thread not found"}\n']);
  });

  it("answers an existing empty thread with no messages", async () => {
    h = await createHttpHarness();
    const id = await newThread(h);
    const res = await get(`/api/threads/${id}/messages`);
    expect(res.status).toBe(200);
    expect(res.body).toBe(`{"thread_id":"${id}","messages":[]}\n`);
  });
});

describe("GET /api/threads/{id}/messages mapping", () => {
  it("maps every ledger type per the table, with legacy tool texts kept raw and without tool fields", async () => {
    h = await createHttpHarness();
    const id = await newThread(h);
    const rows = [
      await append(h, id, { direction: "inbound_to_agent", author: "alice", type: "message", text: "hi" }),
      await append(h, id, { type: "tool_call", text: toolCallText("read", "t1", '{ "path": "/x",\n "n": 12345678901234567890 }') }),
      await append(h, id, { type: "tool_call", text: toolCallText("run", "t2", "not json") }),
      await append(h, id, { type: "tool_call", text: toolCallText("noop", "t3", "") }),
      await append(h, id, { type: "tool_result", text: toolResultText("t1", "file body", false) }),
      await append(h, id, { type: "tool_call", text: '{"id":"t4","input":[1, 2],"name":"reordered"}' }),
      await append(h, id, { type: "tool_call", text: "Bash: ls -la" }),
      await append(h, id, { type: "tool_result", text: "legacy output" }),
      await append(h, id, { type: "tool_call", text: '{"name":"x"}' }),
      await append(h, id, { type: "tool_result", text: '{"id":"t9","output":{"nested":true}}' }),
      await append(h, id, { author: "system", type: "error", text: "boom" }),
      await append(h, id, { author: "system", type: "system", text: "canceled: user_requested" }),
      await append(h, id, { type: "message", text: null }),
    ];
    const res = await get(`/api/threads/${id}/messages`);
    expect(res.status).toBe(200);
    const base = (i: number) => ({ id: rows[i]!.eventId, thread_id: id, sender: rows[i]!.author });
    const at = (i: number) => rows[i]!.timestamp;
    expect(res.json()).toEqual({
      thread_id: id,
      messages: [
        { ...base(0), content: "hi", type: "message", created_at: at(0) },
        { ...base(1), content: '{"path":"/x","n":12345678901234567890}', type: "tool_use", tool_name: "read", tool_id: "t1", created_at: at(1) },
        { ...base(2), content: '"not json"', type: "tool_use", tool_name: "run", tool_id: "t2", created_at: at(2) },
        { ...base(3), content: "{}", type: "tool_use", tool_name: "noop", tool_id: "t3", created_at: at(3) },
        { ...base(4), content: "file body", type: "tool_result", tool_id: "t1", created_at: at(4) },
        { ...base(5), content: "[1,2]", type: "tool_use", tool_name: "reordered", tool_id: "t4", created_at: at(5) },
        { ...base(6), content: "Bash: ls -la", type: "tool_use", created_at: at(6) },
        { ...base(7), content: "legacy output", type: "tool_result", created_at: at(7) },
        { ...base(8), content: '{"name":"x"}', type: "tool_use", created_at: at(8) },
        { ...base(9), content: '{"id":"t9","output":{"nested":true}}', type: "tool_result", created_at: at(9) },
        { ...base(10), content: "boom", type: "message", created_at: at(10) },
        { ...base(11), content: "canceled: user_requested", type: "message", created_at: at(11) },
        { ...base(12), content: "", type: "message", created_at: at(12) },
      ],
    });
    const first = res.body.indexOf("{", 1);
    expect(res.body.slice(first, res.body.indexOf("}", first) + 1)).toBe(
      `{"id":"${rows[0]!.eventId}","thread_id":"${id}","sender":"alice","content":"hi","type":"message","created_at":"${at(0)}"}`,
    );
    expect(res.body).toContain(
      `"content":"{\\"path\\":\\"/x\\",\\"n\\":12345678901234567890}","type":"tool_use","tool_name":"read","tool_id":"t1","created_at"`,
    );
  });

  it("returns the newest `limit` events of this thread only, oldest first, capped at 500", async () => {
    h = await createHttpHarness();
    const id = await newThread(h);
    const other = await newThread(h);
    const texts: string[] = [];
    for (let i = 0; i < 503; i += 1) {
      texts.push(`m${i}`);
      await append(h, id, { text: `m${i}` });
      if (i % 100 === 0) await append(h, other, { text: `other${i}` });
    }
    const contents = async (query: string) =>
      ((await get(`/api/threads/${id}/messages${query}`)).json().messages as Array<{ content: string }>).map((m) => m.content);
    expect(await contents("?limit=3")).toEqual(["m500", "m501", "m502"]);
    expect(await contents("")).toEqual(texts.slice(-50));
    expect(await contents("?limit=9999")).toEqual(texts.slice(-500));
    expect(await contents("?limit=")).toHaveLength(50);
  });
});

describe("GET /api/threads/{id}/usage", () => {
  it("runs 405, path, UUID format, existence in that order and has no limit check", async () => {
    h = await createHttpHarness();
    const unknown = randomUUID();
    const del = await get("/api/threads/a..b/usage", "DELETE");
    expect([del.status, del.body]).toEqual([405, ""]);
    expect((await get("/api/threads/a..b/usage")).json()).toEqual({ error: "invalid path" });
    expect((await get("/api/threads/nope/usage")).json()).toEqual({ error: "invalid thread_id format" });
    const missing = await get(`/api/threads/${unknown}/usage?limit=0`);
    expect([missing.status, missing.json()]).toEqual([404, { error: "thread not found" }]);
  });

  it("lists the thread's usage rows oldest first, omitting message_id while unlinked", async () => {
    h = await createHttpHarness();
    const id = await newThread(h);
    const other = await newThread(h);
    const counts = { inputTokens: 10, outputTokens: 20, cacheReadTokens: 1, cacheWriteTokens: 2, thinkingTokens: 3 };
    const later = await h.usage.insert({ threadId: id, requestId: "r2", agentId: "a1", ...counts, createdAt: "2024-01-15T10:31:00.000Z" });
    const earlier = await h.usage.insert({ threadId: id, requestId: "r1", agentId: "a2", ...counts, inputTokens: 7, createdAt: "2024-01-15T10:30:00.000Z" });
    await h.usage.insert({ threadId: other, requestId: "r3", agentId: "a1", ...counts, createdAt: "2024-01-15T10:30:00.000Z" });
    const final = await append(h, id, { text: "done" });
    await h.usage.linkMessage("r1", final.eventId);
    const res = await get(`/api/threads/${id}/usage`);
    expect(res.status).toBe(200);
    expect(res.body).toBe(
      `{"thread_id":"${id}","usage":[` +
        `{"id":"${earlier.id}","message_id":"${final.eventId}","request_id":"r1","agent_id":"a2","input_tokens":7,"output_tokens":20,` +
        `"cache_read_tokens":1,"cache_write_tokens":2,"thinking_tokens":3,"created_at":"2024-01-15T10:30:00.000Z"},` +
        `{"id":"${later.id}","request_id":"r2","agent_id":"a1","input_tokens":10,"output_tokens":20,` +
        `"cache_read_tokens":1,"cache_write_tokens":2,"thinking_tokens":3,"created_at":"2024-01-15T10:31:00.000Z"}],` +
        // ops.md §4.3: cost fields after the existing keys; these rows were never priced.
        `"cost":0,"currency":"USD","unpriced_requests":2}\n`,
    );
  });
});
