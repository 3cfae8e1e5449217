// ABOUTME: GET /api/stats/usage: 405, the exact RFC 3339 error strings in order, zeros when nothing matches, and
// ABOUTME: each filter (agent, thread, inclusive since, exclusive until, offsets, sub-ms) over real usage rows.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ZEROS = {
  total_input: 0,
  total_output: 0,
  total_cache_read: 0,
  total_cache_write: 0,
  total_thinking: 0,
  total_tokens: 0,
  request_count: 0,
  cost: 0,
  currency: "USD",
  unpriced_requests: 0,
};

async function get(query: string) {
  const res = await h!.app.inject({ method: "GET", url: `/api/stats/usage${query}` });
  return { status: res.statusCode, body: res.body, json: () => res.json() as Record<string, unknown> };
}

async function newThread(harness: HttpHarness): Promise<string> {
  const id = randomUUID();
  await harness.threads.insert({ id, frontendName: "direct", externalId: id, agentId: "a1", now: "2024-01-01T00:00:00.000Z" });
  return id;
}

/** Rows: (agent, thread, request, createdAt, input); output = 2*input, thinking = 1, cache read 5, cache write 7. */
async function seed(harness: HttpHarness) {
  const t1 = await newThread(harness);
  const t2 = await newThread(harness);
  const rows: Array<[string, string, string, string, number]> = [
    ["a1", t1, "r1", "2024-01-15T10:00:00.000Z", 10],
    ["a1", t1, "r1", "2024-01-15T10:00:00.001Z", 20],
    ["a1", t2, "r2", "2024-01-15T11:00:00.000Z", 40],
    ["a2", t2, "r3", "2024-01-15T12:00:00.000Z", 80],
  ];
  for (const [agentId, threadId, requestId, createdAt, input] of rows) {
    await harness.usage.insert({
      threadId,
      requestId,
      agentId,
      createdAt,
      inputTokens: input,
      outputTokens: input * 2,
      cacheReadTokens: 5,
      cacheWriteTokens: 7,
      thinkingTokens: 1,
    });
  }
  return { t1, t2 };
}

/** Expected totals for rows with these inputs (see seed) and this many distinct requests. */
function totals(inputs: number[], requests: number) {
  const input = inputs.reduce((a, b) => a + b, 0);
  const n = inputs.length;
  return {
    total_input: input,
    total_output: input * 2,
    total_cache_read: 5 * n,
    total_cache_write: 7 * n,
    total_thinking: n,
    total_tokens: input * 3 + n,
    request_count: requests,
    // ops.md §4.3: the seeded rows are unpriced, so every request counts as unpriced.
    cost: 0,
    currency: "USD",
    unpriced_requests: requests,
  };
}

describe("GET /api/stats/usage checks", () => {
  it("answers 405 with an empty body for other methods", async () => {
    h = await createHttpHarness();
    const res = await h.app.inject({ method: "POST", url: "/api/stats/usage?since=bad" });
    expect([res.statusCode, res.body]).toEqual([405, ""]);
  });

  it.each(["yesterday", "2024-01-15", "2024-01-15T10:30:00", "2024-01-15 10:30:00Z", "2024-02-30T00:00:00Z", "2024-01-15T25:00:00Z"])(
    "rejects since=%s, checked before until",
    async (since) => {
      h = await createHttpHarness();
      const res = await get(`?since=${encodeURIComponent(since)}&until=bad`);
      expect(res.status).toBe(400);
      expect(res.body).toBe(`{"error":"invalid 'since' format (use RFC3339)"}\n`);
    },
  );

  it("rejects a bad until after a good since", async () => {
    h = await createHttpHarness();
    const res = await get("?since=2024-01-15T10:30:00Z&until=2024-01-15");
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ error: "invalid 'until' format (use RFC3339)" });
  });

  it("answers zeros, keys in order, when nothing matches", async () => {
    h = await createHttpHarness();
    const res = await get("?agent_id=nobody&since=2024-01-15T10:30:00.5%2B02:00");
    expect(res.status).toBe(200);
    expect(res.body).toBe(`${JSON.stringify(ZEROS)}\n`);
  });
});

describe("GET /api/stats/usage filters", () => {
  it("sums everything without filters, counting distinct requests and excluding cache from total_tokens", async () => {
    h = await createHttpHarness();
    await seed(h);
    expect((await get("")).json()).toEqual(totals([10, 20, 40, 80], 3));
    expect((await get("?agent_id=&thread_id=&since=&until=")).json()).toEqual(totals([10, 20, 40, 80], 3));
  });

  it("honours agent_id and thread_id, alone and together", async () => {
    h = await createHttpHarness();
    const { t1, t2 } = await seed(h);
    expect((await get("?agent_id=a1")).json()).toEqual(totals([10, 20, 40], 2));
    expect((await get(`?thread_id=${t2}`)).json()).toEqual(totals([40, 80], 2));
    expect((await get(`?thread_id=${t1}`)).json()).toEqual(totals([10, 20], 1));
    expect((await get(`?agent_id=a2&thread_id=${t1}`)).json()).toEqual(ZEROS);
  });

  it("treats since as inclusive and until as exclusive", async () => {
    h = await createHttpHarness();
    await seed(h);
    expect((await get("?since=2024-01-15T11:00:00Z")).json()).toEqual(totals([40, 80], 2));
    expect((await get("?until=2024-01-15T11:00:00Z")).json()).toEqual(totals([10, 20], 1));
    expect((await get("?since=2024-01-15T10:00:00.001Z&until=2024-01-15T12:00:00Z")).json()).toEqual(totals([20, 40], 2));
  });

  it("converts offsets to UTC and rounds sub-millisecond bounds correctly", async () => {
    h = await createHttpHarness();
    await seed(h);
    const q = (since: string, until: string) => `?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`;
    expect((await get(q("2024-01-15T12:00:00+01:00", "2024-01-15T14:00:00+02:00"))).json()).toEqual(totals([40], 1));
    expect((await get(q("2024-01-15T10:00:00.0005Z", "2024-01-15T10:00:00.0015Z"))).json()).toEqual(totals([20], 1));
    expect((await get(q("2024-01-15T10:00:00.000Z", "2024-01-15T10:00:00.0001Z"))).json()).toEqual(totals([10], 1));
  });
});
