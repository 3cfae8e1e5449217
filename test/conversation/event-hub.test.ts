// ABOUTME: The event hub alone: per-conversation sequence, bounded subscriber queues, and the counted, logged
// ABOUTME: overflow that ends a slow subscriber with the last ledger event it received as its resume point.
import { describe, expect, it } from "vitest";
import { EventHub } from "../../src/conversation/event-hub.js";
import { createMemoryLogger } from "../../src/lib/logger.js";
import type { LedgerEvent } from "../../src/store/ledger-repository.js";

function ledgerEvent(seq: number): LedgerEvent {
  return {
    seq,
    eventId: `event-${seq}`,
    conversationKey: "agent-a",
    threadId: null,
    requestId: null,
    direction: "outbound_from_agent",
    author: "agent:agent-a",
    timestamp: "2026-01-01T00:00:00.000Z",
    type: "message",
    text: `text ${seq}`,
    rawTransport: null,
    rawPayloadRef: null,
    actorPrincipalId: null,
  };
}

const publishLedger = (hub: EventHub, seq: number, conversationKey = "agent-a") =>
  hub.publish({ kind: "ledger", conversationKey, requestId: null, event: ledgerEvent(seq) });

describe("EventHub", () => {
  it("numbers events per conversation, with or without subscribers", () => {
    const hub = new EventHub();
    expect(publishLedger(hub, 1)).toBe(1);
    expect(publishLedger(hub, 2)).toBe(2);
    expect(publishLedger(hub, 3, "agent-b")).toBe(1);
  });

  it("delivers events published after subscribing, in order", async () => {
    const hub = new EventHub();
    publishLedger(hub, 1);
    const sub = hub.subscribe("agent-a", { maxQueue: 10 });
    publishLedger(hub, 2);
    publishLedger(hub, 3);
    publishLedger(hub, 4, "agent-b");
    const it = sub[Symbol.asyncIterator]();
    const seen = [(await it.next()).value, (await it.next()).value].map((e) => (e?.kind === "ledger" ? e.event.seq : -1));
    expect(seen).toEqual([2, 3]);
    sub.close();
    expect(await sub.ended).toEqual({ reason: "closed" });
    expect(hub.subscriberCount("agent-a")).toBe(0);
  });

  it("ends an overflowing subscriber with its resume point, counts and logs it, and keeps the others", async () => {
    const log = createMemoryLogger();
    const hub = new EventHub({ log });
    const slow = hub.subscribe("agent-a", { maxQueue: 2 });
    const fast = hub.subscribe("agent-a", { maxQueue: 100 });
    const slowIt = slow[Symbol.asyncIterator]();
    publishLedger(hub, 1);
    expect((await slowIt.next()).value).toMatchObject({ kind: "ledger" });
    publishLedger(hub, 2);
    publishLedger(hub, 3);
    publishLedger(hub, 4);
    expect(await slow.ended).toEqual({ reason: "slow_consumer", resumeFromEventId: "event-1", queued: 2 });
    expect((await slowIt.next()).done).toBe(true);
    expect(hub.counters.subscriberOverflows).toBe(1);
    expect(log.entries.filter((e) => e.level === "warn")).toEqual([
      { level: "warn", msg: "event hub subscriber overflow", attrs: { topic: "agent-a", subscriber_id: 1, queued: 2, overflows: 1 } },
    ]);
    expect(hub.subscriberCount("agent-a")).toBe(1);
    const fastIt = fast[Symbol.asyncIterator]();
    const fastSeqs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const value = (await fastIt.next()).value;
      if (value?.kind === "ledger") fastSeqs.push(value.event.seq);
    }
    expect(fastSeqs).toEqual([1, 2, 3, 4]);
    fast.close();
  });
});
