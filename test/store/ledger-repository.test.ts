// ABOUTME: Tests the ledger repository: seq order, the non-decreasing timestamp rule, paging and reads.
// ABOUTME: Append runs through Kysely and through the group commit alike: usage linking, thread updated_at, transactions.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/lib/clock.js";
import { isUuid, randomIds } from "../../src/lib/ids.js";
import { decodeCursor } from "../../src/store/cursor.js";
import { createLedgerRepository, type LedgerRepository, type NewLedgerEvent } from "../../src/store/ledger-repository.js";
import { createThreadRepository } from "../../src/store/thread-repository.js";
import { createUsageRepository } from "../../src/store/usage-repository.js";
import { createManualClock, openTempDatabase, type ManualClock, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let clock: ManualClock;
let ledger: LedgerRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  clock = createManualClock("2025-01-01T00:00:00.000Z");
  ledger = createLedgerRepository(temp.store.db, clock);
});

afterEach(async () => {
  await temp.cleanup();
});

function event(overrides: Partial<NewLedgerEvent> = {}): NewLedgerEvent {
  return { conversationKey: "agent-1", direction: "inbound_to_agent", author: "alice", type: "message", text: "hi", ...overrides };
}

async function addThread(id: string, now = "2025-01-01T00:00:00.000Z"): Promise<void> {
  await createThreadRepository(temp.store.db).insert({ id, frontendName: "direct", externalId: id, agentId: "agent-1", now });
}

/** Appends one event per timestamp, setting the clock before each. */
async function appendAt(times: string[], overrides: Partial<NewLedgerEvent> = {}) {
  const out = [];
  for (const t of times) {
    clock.set(t);
    out.push(await ledger.append(event(overrides)));
  }
  return out;
}

describe.each([
  ["through Kysely", false],
  ["group-committed with prepared statements", true],
])("append (%s)", (_how, batched) => {
  const repo = (db: typeof temp.store.db, c: Clock) => createLedgerRepository(db, c, randomIds, batched ? temp.store.writes : undefined);
  beforeEach(() => {
    ledger = repo(temp.store.db, clock);
  });

  it("returns the stored event with a UUIDv4 event_id, a strictly increasing seq and resolved nulls", async () => {
    const a = await ledger.append(event());
    const b = await ledger.append(event({ author: "bob" }));
    expect(isUuid(a.eventId)).toBe(true);
    expect(a.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(a).toEqual({
      seq: a.seq,
      eventId: a.eventId,
      conversationKey: "agent-1",
      threadId: null,
      requestId: null,
      direction: "inbound_to_agent",
      author: "alice",
      timestamp: "2025-01-01T00:00:00.000Z",
      type: "message",
      text: "hi",
      rawTransport: null,
      rawPayloadRef: null,
      actorPrincipalId: null,
    });
    expect(await ledger.findByEventId(a.eventId)).toEqual(a);
  });

  it("keeps a caller-chosen event id", async () => {
    const id = "6f1c1b7e-8a1e-4c8e-9f60-0c1a3c0e4b11";
    const stored = await ledger.append(event({ eventId: id }));
    expect(stored.eventId).toBe(id);
  });

  it("never lets the timestamp decrease along seq when the clock goes backwards", async () => {
    const events = await appendAt([
      "2025-01-01T00:00:05.000Z",
      "2025-01-01T00:00:01.000Z",
      "2024-12-31T23:00:00.000Z",
      "2025-01-01T00:00:07.500Z",
      "2025-01-01T00:00:06.000Z",
    ]);
    expect(events.map((e) => e.timestamp)).toEqual([
      "2025-01-01T00:00:05.000Z",
      "2025-01-01T00:00:05.000Z",
      "2025-01-01T00:00:05.000Z",
      "2025-01-01T00:00:07.500Z",
      "2025-01-01T00:00:07.500Z",
    ]);
    for (let i = 1; i < events.length; i++) expect(events[i]!.seq).toBeGreaterThan(events[i - 1]!.seq);
  });

  it("keeps seq and timestamps ordered under concurrent appends", async () => {
    let tick = 0;
    const jumpy = { now: () => new Date(Date.UTC(2025, 0, 1, 0, 0, (tick++ * 7) % 11)) };
    const concurrent = repo(temp.store.db, jumpy);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => concurrent.append(event({ text: `c${i}` }))));
    const stored = await ledger.newestInConversation("agent-1", 100);
    expect(new Set(results.map((e) => e.seq)).size).toBe(20);
    for (let i = 1; i < stored.length; i++) {
      expect(stored[i]!.seq).toBeGreaterThan(stored[i - 1]!.seq);
      expect(stored[i]!.timestamp >= stored[i - 1]!.timestamp).toBe(true);
    }
  });

  it("applies the timestamp rule across conversations (the previous row is global)", async () => {
    clock.set("2025-01-01T00:00:09.000Z");
    await ledger.append(event({ conversationKey: "agent-2" }));
    clock.set("2025-01-01T00:00:01.000Z");
    const e = await ledger.append(event({ conversationKey: "agent-1" }));
    expect(e.timestamp).toBe("2025-01-01T00:00:09.000Z");
  });

  it("moves threads.updated_at to the event timestamp", async () => {
    await addThread("t1");
    clock.set("2025-02-02T02:02:02.002Z");
    await ledger.append(event({ threadId: "t1" }));
    const thread = await createThreadRepository(temp.store.db).findById("t1");
    expect(thread?.updatedAt).toBe("2025-02-02T02:02:02.002Z");
    expect(thread?.createdAt).toBe("2025-01-01T00:00:00.000Z");
  });

  it("links the request's unlinked usage rows to the new event, and only those", async () => {
    await addThread("t1");
    const usage = createUsageRepository(temp.store.db);
    const base = { threadId: "t1", agentId: "agent-1", inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, thinkingTokens: 0 };
    await usage.insert({ ...base, id: "u1", requestId: "r1", createdAt: "2025-01-01T00:00:01.000Z" });
    await usage.insert({ ...base, id: "u2", requestId: "r1", createdAt: "2025-01-01T00:00:02.000Z" });
    await usage.insert({ ...base, id: "u3", requestId: "r2", createdAt: "2025-01-01T00:00:03.000Z" });
    const first = await ledger.append(event({ threadId: "t1", requestId: "r1", direction: "outbound_from_agent" }), {
      linkUsageForRequestId: "r1",
    });
    await usage.insert({ ...base, id: "u4", requestId: "r1", createdAt: "2025-01-01T00:00:04.000Z" });
    const second = await ledger.append(event({ threadId: "t1", requestId: "r1" }), { linkUsageForRequestId: "r1" });
    const rows = await usage.listByThread("t1");
    expect(rows.map((r) => [r.id, r.messageId])).toEqual([
      ["u1", first.eventId],
      ["u2", first.eventId],
      ["u3", null],
      ["u4", second.eventId],
    ]);
  });

  it("leaves usage rows unlinked without the option", async () => {
    await addThread("t1");
    const usage = createUsageRepository(temp.store.db);
    await usage.insert({ id: "u1", threadId: "t1", requestId: "r1", agentId: "a", inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, thinkingTokens: 0, createdAt: "2025-01-01T00:00:00.000Z" });
    await ledger.append(event({ threadId: "t1", requestId: "r1" }));
    expect((await usage.listByThread("t1"))[0]?.messageId).toBeNull();
  });

  it("writes nothing when the event fails (unknown thread)", async () => {
    await expect(ledger.append(event({ threadId: "missing" }))).rejects.toThrow(/FOREIGN KEY/);
    expect(await ledger.newestInConversation("agent-1", 10)).toEqual([]);
  });

  it("joins an enclosing transaction and rolls back with it", async () => {
    await expect(
      temp.store.db.transaction().execute(async (trx) => {
        await repo(trx, clock).append(event({ text: "rolled back" }));
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    const committed = await temp.store.db.transaction().execute(async (trx) => repo(trx, clock).append(event({ text: "kept" })));
    const all = await ledger.newestInConversation("agent-1", 10);
    expect(all.map((e) => e.text)).toEqual(["kept"]);
    expect(all[0]).toEqual(committed);
  });
});

describe("listConversation", () => {
  it("pages in seq order with limit + 1 → hasMore and a cursor at the last returned row", async () => {
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await ledger.append(event({ text: `m${i}` })));
    await ledger.append(event({ conversationKey: "other" }));

    const page1 = await ledger.listConversation({ conversationKey: "agent-1", limit: 2 });
    expect(page1.events.map((e) => e.text)).toEqual(["m0", "m1"]);
    expect(page1.hasMore).toBe(true);
    expect(decodeCursor(page1.nextCursor!)).toBe(events[1]!.seq);

    const page2 = await ledger.listConversation({ conversationKey: "agent-1", limit: 2, afterSeq: decodeCursor(page1.nextCursor!) });
    expect(page2.events.map((e) => e.text)).toEqual(["m2", "m3"]);
    expect(page2.hasMore).toBe(true);

    const page3 = await ledger.listConversation({ conversationKey: "agent-1", limit: 2, afterSeq: decodeCursor(page2.nextCursor!) });
    expect(page3.events.map((e) => e.text)).toEqual(["m4"]);
    expect(page3.hasMore).toBe(false);
    expect(page3.nextCursor).toBeUndefined();
  });

  it("reports hasMore false when exactly limit rows exist", async () => {
    for (let i = 0; i < 3; i++) await ledger.append(event());
    const page = await ledger.listConversation({ conversationKey: "agent-1", limit: 3 });
    expect(page.events).toHaveLength(3);
    expect(page.hasMore).toBe(false);
  });

  it("applies the default limit of 50 when none or ≤ 0 is given", async () => {
    for (let i = 0; i < 51; i++) await ledger.append(event());
    for (const limit of [undefined, 0, -5]) {
      const page = await ledger.listConversation({ conversationKey: "agent-1", limit });
      expect(page.events).toHaveLength(50);
      expect(page.hasMore).toBe(true);
    }
  });

  it("treats since and until as inclusive", async () => {
    await appendAt([
      "2025-01-01T00:00:01.000Z",
      "2025-01-01T00:00:02.000Z",
      "2025-01-01T00:00:03.000Z",
      "2025-01-01T00:00:04.000Z",
    ]);
    const page = await ledger.listConversation({
      conversationKey: "agent-1",
      since: "2025-01-01T00:00:02.000Z",
      until: "2025-01-01T00:00:03.000Z",
      limit: 10,
    });
    expect(page.events.map((e) => e.timestamp)).toEqual(["2025-01-01T00:00:02.000Z", "2025-01-01T00:00:03.000Z"]);
  });
});

describe("other reads", () => {
  it("newestInThread returns the newest n in chronological order", async () => {
    await addThread("t1");
    await addThread("t2");
    for (let i = 0; i < 5; i++) await ledger.append(event({ threadId: "t1", text: `t1-${i}` }));
    await ledger.append(event({ threadId: "t2", text: "t2" }));
    expect((await ledger.newestInThread("t1", 3)).map((e) => e.text)).toEqual(["t1-2", "t1-3", "t1-4"]);
    expect((await ledger.newestInThread("t1", 10)).map((e) => e.text)).toEqual(["t1-0", "t1-1", "t1-2", "t1-3", "t1-4"]);
    expect(await ledger.newestInThread("t1", 0)).toEqual([]);
  });

  it("newestInConversation returns the newest n in chronological order", async () => {
    for (let i = 0; i < 4; i++) await ledger.append(event({ text: `m${i}` }));
    await ledger.append(event({ conversationKey: "other", text: "x" }));
    expect((await ledger.newestInConversation("agent-1", 2)).map((e) => e.text)).toEqual(["m2", "m3"]);
  });

  it("findByEventId honours the conversation key and returns undefined when absent", async () => {
    const e = await ledger.append(event());
    expect(await ledger.findByEventId(e.eventId, "agent-1")).toEqual(e);
    expect(await ledger.findByEventId(e.eventId, "agent-2")).toBeUndefined();
    expect(await ledger.findByEventId("nope")).toBeUndefined();
  });

  it("listConversationAfterSeq reads ascending after the given seq", async () => {
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await ledger.append(event({ text: `m${i}` })));
    await ledger.append(event({ conversationKey: "other" }));
    const after = await ledger.listConversationAfterSeq("agent-1", events[1]!.seq, 2);
    expect(after.map((e) => e.text)).toEqual(["m2", "m3"]);
    expect(await ledger.listConversationAfterSeq("agent-1", events[4]!.seq, 100)).toEqual([]);
  });

  it("findByRequestId returns the request's events in seq order", async () => {
    await ledger.append(event({ requestId: "r1", text: "a" }));
    await ledger.append(event({ requestId: "r2", text: "b" }));
    await ledger.append(event({ requestId: "r1", text: "c" }));
    expect((await ledger.findByRequestId("r1")).map((e) => e.text)).toEqual(["a", "c"]);
    expect(await ledger.findByRequestId("none")).toEqual([]);
  });
});

describe("listUnterminatedTurns", () => {
  it("lists only turns whose user message has no outbound message, error or system row, oldest first", async () => {
    await addThread("t1");
    const turn = (requestId: string) => event({ threadId: "t1", requestId });
    const out = (requestId: string, type: NewLedgerEvent["type"]) =>
      event({ threadId: "t1", requestId, direction: "outbound_from_agent", author: "agent:agent-1", type });
    await ledger.append(turn("r-done"));
    await ledger.append(out("r-done", "message"));
    await ledger.append(turn("r-open-1"));
    await ledger.append(out("r-open-1", "tool_call"));
    await ledger.append(turn("r-error"));
    await ledger.append(out("r-error", "error"));
    await ledger.append(turn("r-canceled"));
    await ledger.append(out("r-canceled", "system"));
    await ledger.append(turn("r-open-2"));
    await ledger.append(event({ author: "alice" }));
    expect(await ledger.listUnterminatedTurns()).toEqual([
      { conversationKey: "agent-1", threadId: "t1", requestId: "r-open-1" },
      { conversationKey: "agent-1", threadId: "t1", requestId: "r-open-2" },
    ]);
  });
});
