// ABOUTME: Tests GetEvents over the real ledger: input checks in spec order, inclusive normalised time bounds,
// ABOUTME: cursor paging with has_more/next_cursor, and the fixed INTERNAL message when the read fails.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getEvents, type GetEventsInput } from "../../src/conversation/get-events.js";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { randomIds } from "../../src/lib/ids.js";
import { silentLogger } from "../../src/lib/logger.js";
import { encodeCursor } from "../../src/store/cursor.js";
import { createLedgerRepository, type LedgerRepository } from "../../src/store/ledger-repository.js";
import { createManualClock, openTempDatabase, type ManualClock, type TempDatabase } from "../store/temp-database.js";

let temp: TempDatabase;
let clock: ManualClock;
let ledger: LedgerRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  clock = createManualClock("2025-03-01T10:00:00.000Z");
  ledger = createLedgerRepository(temp.store.db, clock, randomIds);
});

afterEach(async () => {
  await temp.cleanup();
});

async function append(conversationKey: string, at: string, text: string) {
  clock.set(at);
  return ledger.append({ conversationKey, direction: "inbound_to_agent", author: "t", type: "message", text });
}

async function failure(input: GetEventsInput): Promise<[string, string] | undefined> {
  try {
    await getEvents({ ledger, log: silentLogger }, input);
    return undefined;
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return [err.code, err.message];
  }
}

describe("getEvents", () => {
  it("checks the input in spec order with the exact messages", async () => {
    expect(await failure({ conversationKey: "", since: "bad", cursor: "bad" })).toEqual(["INVALID_ARGUMENT", "conversation_key required"]);
    expect(await failure({ conversationKey: "a", since: "bad", until: "bad", cursor: "bad" })).toEqual([
      "INVALID_ARGUMENT",
      "invalid since timestamp",
    ]);
    expect(await failure({ conversationKey: "a", until: "2025-13-01T00:00:00Z", cursor: "bad" })).toEqual([
      "INVALID_ARGUMENT",
      "invalid until timestamp",
    ]);
    expect(await failure({ conversationKey: "a", cursor: "bad" })).toEqual(["INVALID_ARGUMENT", "invalid cursor"]);
    expect(await failure({ conversationKey: "a", since: "", until: "", cursor: "" })).toBeUndefined();
  });

  it("filters by inclusive bounds given in any offset", async () => {
    await append("a", "2025-03-01T10:00:00.000Z", "e0");
    await append("a", "2025-03-01T10:00:01.000Z", "e1");
    await append("a", "2025-03-01T10:00:02.000Z", "e2");
    await append("b", "2025-03-01T10:00:01.000Z", "other");
    const page = await getEvents(
      { ledger, log: silentLogger },
      { conversationKey: "a", since: "2025-03-01T11:00:01+01:00", until: "2025-03-01T10:00:02.000Z" },
    );
    expect(page.events.map((e) => e.text)).toEqual(["e1", "e2"]);
    expect(page.hasMore).toBe(false);
    expect(page.nextCursor).toBeUndefined();
  });

  it("pages oldest first with a cursor at the last returned event", async () => {
    const events = [];
    for (let i = 0; i < 5; i += 1) events.push(await append("a", `2025-03-01T10:00:0${i}.000Z`, `e${i}`));
    const first = await getEvents({ ledger, log: silentLogger }, { conversationKey: "a", limit: 2 });
    expect(first.events.map((e) => e.text)).toEqual(["e0", "e1"]);
    expect(first).toMatchObject({ hasMore: true, nextCursor: encodeCursor(events[1]?.seq as number) });
    const second = await getEvents({ ledger, log: silentLogger }, { conversationKey: "a", limit: 2, cursor: first.nextCursor });
    expect(second.events.map((e) => e.text)).toEqual(["e2", "e3"]);
    const last = await getEvents({ ledger, log: silentLogger }, { conversationKey: "a", limit: 2, cursor: second.nextCursor });
    expect(last.events.map((e) => e.text)).toEqual(["e4"]);
    expect(last.hasMore).toBe(false);
  });

  it("reports a failed read as INTERNAL `failed to fetch events`", async () => {
    await temp.store.close();
    expect(await failure({ conversationKey: "a" })).toEqual(["INTERNAL", "failed to fetch events"]);
  });
});
