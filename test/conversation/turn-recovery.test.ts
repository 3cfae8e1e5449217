// ABOUTME: Tests crash recovery over a real migrated database: interrupted turns get one `gateway restarted` row.
// ABOUTME: Finished turns are left alone, and a second run writes nothing more.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/lib/logger.js";
import { GATEWAY_RESTARTED, recoverInterruptedTurns } from "../../src/conversation/turn-recovery.js";
import { createLedgerRepository, type LedgerRepository } from "../../src/store/ledger-repository.js";
import { createThreadRepository } from "../../src/store/thread-repository.js";
import { createManualClock, openTempDatabase, type TempDatabase } from "../store/temp-database.js";

let temp: TempDatabase;
let ledger: LedgerRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  ledger = createLedgerRepository(temp.store.db, createManualClock("2025-01-01T00:00:00.000Z"));
  await createThreadRepository(temp.store.db).insert({
    id: "t1",
    frontendName: "direct",
    externalId: "t1",
    agentId: "agent-1",
    now: "2025-01-01T00:00:00.000Z",
  });
});

afterEach(async () => {
  await temp.cleanup();
});

describe("recoverInterruptedTurns", () => {
  it("appends one outbound system error linked to the interrupted turn, once", async () => {
    const base = { conversationKey: "agent-1", threadId: "t1", author: "client", type: "message" } as const;
    await ledger.append({ ...base, requestId: "r-done", direction: "inbound_to_agent" });
    await ledger.append({ ...base, requestId: "r-done", direction: "outbound_from_agent", author: "agent:agent-1" });
    await ledger.append({ ...base, requestId: "r-open", direction: "inbound_to_agent" });

    expect(await recoverInterruptedTurns({ ledger, log: silentLogger })).toBe(1);
    expect(await recoverInterruptedTurns({ ledger, log: silentLogger })).toBe(0);

    const open = await ledger.findByRequestId("r-open");
    expect(open.map((e) => [e.direction, e.type, e.author, e.text])).toEqual([
      ["inbound_to_agent", "message", "client", null],
      ["outbound_from_agent", "error", "system", GATEWAY_RESTARTED],
    ]);
    expect(open[1]).toMatchObject({ conversationKey: "agent-1", threadId: "t1", actorPrincipalId: null });
    expect(await ledger.findByRequestId("r-done")).toHaveLength(2);
  });
});
