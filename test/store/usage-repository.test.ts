// ABOUTME: Tests the usage repository: insert, per-thread listing order, message linking and stats.
// ABOUTME: Stats: since inclusive, until exclusive, distinct request count, agent/thread filters, zeros.
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isUuid } from "../../src/lib/ids.js";
import { createThreadRepository } from "../../src/store/thread-repository.js";
import { createUsageRepository, type NewMessageUsage, type UsageRepository } from "../../src/store/usage-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let usage: UsageRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  usage = createUsageRepository(temp.store.db);
  const threads = createThreadRepository(temp.store.db);
  for (const id of ["t1", "t2"]) await threads.insert({ id, frontendName: "direct", externalId: id, agentId: "a", now: "2025-01-01T00:00:00.000Z" });
});

afterEach(async () => {
  await temp.cleanup();
});

function row(overrides: Partial<NewMessageUsage>): NewMessageUsage {
  return {
    threadId: "t1",
    requestId: "r1",
    agentId: "agent-1",
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    thinkingTokens: 0,
    createdAt: "2025-01-01T00:00:00.000Z",
    ...overrides,
  };
}

describe("insert with the store's group commit", () => {
  it("joins the write batch of its event-loop turn: a unit queued after it sees the row before it is committed", async () => {
    const batched = createUsageRepository(temp.store.db, temp.store.writes);
    const reader = new SQLite(join(temp.dir, "gateway.db"), { readonly: true });
    const count = (db: { prepare(sql: string): { get(): unknown } }) => (db.prepare("SELECT count(*) AS n FROM message_usage").get() as { n: number }).n;
    try {
      const stored = batched.insert(row({ id: "u1", inputTokens: 2, costMicros: 7 }));
      const seen = temp.store.writes.run((ctx) => ({
        own: (ctx.statement("SELECT count(*) AS n FROM message_usage").get() as { n: number }).n,
        others: count(reader),
      }));
      expect(await seen).toEqual({ own: 1, others: 0 });
      expect((await stored).id).toBe("u1");
      expect(count(reader)).toBe(1);
      expect(await usage.listByThread("t1")).toEqual([await stored]);
    } finally {
      reader.close();
    }
  });

  it("still rejects with the driver's error, alone, when its row breaks a constraint", async () => {
    const batched = createUsageRepository(temp.store.db, temp.store.writes);
    const good = batched.insert(row({ id: "ok" }));
    const bad = batched.insert(row({ id: "bad", threadId: "no-such-thread" }));
    await expect(bad).rejects.toThrow(/FOREIGN KEY/);
    expect((await good).id).toBe("ok");
    expect((await usage.listByThread("t1")).map((u) => u.id)).toEqual(["ok"]);
  });
});

describe("insert and listByThread", () => {
  it("stores the counts with a fresh UUID and message_id NULL", async () => {
    const stored = await usage.insert(row({ inputTokens: 3, outputTokens: 4, cacheReadTokens: 5, cacheWriteTokens: 6, thinkingTokens: 7 }));
    expect(isUuid(stored.id)).toBe(true);
    expect(stored.messageId).toBeNull();
    expect(await usage.listByThread("t1")).toEqual([stored]);
  });

  it("lists oldest first and breaks timestamp ties by insertion order", async () => {
    await usage.insert(row({ id: "late", createdAt: "2025-01-01T00:00:09.000Z" }));
    await usage.insert(row({ id: "tie-z", createdAt: "2025-01-01T00:00:01.000Z" }));
    await usage.insert(row({ id: "tie-a", createdAt: "2025-01-01T00:00:01.000Z" }));
    await usage.insert(row({ id: "other", threadId: "t2" }));
    expect((await usage.listByThread("t1")).map((u) => u.id)).toEqual(["tie-z", "tie-a", "late"]);
  });

  it("linkMessage only fills rows without a message id", async () => {
    await usage.insert(row({ id: "u1" }));
    expect(await usage.linkMessage("r1", "m1")).toBe(1);
    await usage.insert(row({ id: "u2" }));
    expect(await usage.linkMessage("r1", "m2")).toBe(1);
    expect((await usage.listByThread("t1")).map((u) => u.messageId)).toEqual(["m1", "m2"]);
  });
});

describe("stats", () => {
  beforeEach(async () => {
    await usage.insert(row({ requestId: "r1", inputTokens: 10, outputTokens: 1, thinkingTokens: 100, cacheReadTokens: 7, createdAt: "2025-01-01T00:00:00.000Z" }));
    await usage.insert(row({ requestId: "r1", inputTokens: 20, outputTokens: 2, cacheWriteTokens: 9, createdAt: "2025-01-01T00:00:01.000Z" }));
    await usage.insert(row({ requestId: "r2", inputTokens: 30, outputTokens: 3, createdAt: "2025-01-01T00:00:02.000Z" }));
    await usage.insert(row({ requestId: "r3", threadId: "t2", agentId: "agent-2", inputTokens: 1000, createdAt: "2025-01-01T00:00:03.000Z" }));
  });

  it("sums everything with a distinct request count and total = input + output + thinking", async () => {
    expect(await usage.stats({})).toEqual({
      totalInput: 1060,
      totalOutput: 6,
      totalCacheRead: 7,
      totalCacheWrite: 9,
      totalThinking: 100,
      totalTokens: 1166,
      requestCount: 3,
      costMicros: 0,
      unpricedRequests: 3,
    });
  });

  it("filters by agent and by thread", async () => {
    const byAgent = await usage.stats({ agentId: "agent-1" });
    expect(byAgent.totalInput).toBe(60);
    expect(byAgent.requestCount).toBe(2);
    const byThread = await usage.stats({ threadId: "t2" });
    expect(byThread.totalInput).toBe(1000);
    expect(byThread.requestCount).toBe(1);
  });

  it("treats since as inclusive and until as exclusive", async () => {
    const stats = await usage.stats({ since: "2025-01-01T00:00:01.000Z", until: "2025-01-01T00:00:03.000Z" });
    expect(stats.totalInput).toBe(50);
    expect(stats.requestCount).toBe(2);
  });

  it("returns zeros when nothing matches", async () => {
    expect(await usage.stats({ agentId: "nobody" })).toEqual({
      totalInput: 0,
      totalOutput: 0,
      totalCacheRead: 0,
      totalCacheWrite: 0,
      totalThinking: 0,
      totalTokens: 0,
      requestCount: 0,
      costMicros: 0,
      unpricedRequests: 0,
    });
  });
});
