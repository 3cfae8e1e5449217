// ABOUTME: Tests the StreamEvents engine over a real store, hub and AgentManager: replay, exact resume (also after a
// ABOUTME: restart), in-flight catch-up, pending prompts, live dedupe by seq, slow-consumer end and other end reasons.
import { join } from "node:path";
import { rmSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EventStream, EventStreamItem } from "../../src/conversation/event-stream.js";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { openDatabase, type StoreDatabase } from "../../src/store/database.js";
import type { LedgerEvent } from "../../src/store/ledger-repository.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createManualClock, makeTempDir, openTempDatabase, type TempDatabase } from "../store/temp-database.js";
import { buildDomain, describeItem, FakeAgent, startTurn, take, until, type Domain } from "./conversation-harness.js";

const T0 = "2025-03-01T10:00:00.000Z";

let temp: TempDatabase;
let domain: Domain;
let agent: FakeAgent;
const streams: EventStream[] = [];

beforeEach(async () => {
  temp = await openTempDatabase();
  domain = buildDomain(temp.store, createManualClock(T0));
  agent = new FakeAgent(domain.agents, "agent-a");
  await agent.register();
});

afterEach(async () => {
  vi.useRealTimers();
  for (const stream of streams.splice(0)) stream.close();
  agent.disconnect();
  await domain.conversations.drain();
  domain.close();
  await temp.cleanup();
});

function open(conversationKey: string, sinceEventId?: string, options?: { maxQueue?: number; idleTimeoutMs?: number }) {
  const stream = domain.openStream(conversationKey, sinceEventId, options);
  streams.push(stream);
  return { stream, it: stream[Symbol.asyncIterator]() };
}

async function appendMessages(conversationKey: string, n: number, publish = false): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for (let i = 0; i < n; i += 1) {
    const event = await domain.ledger.append({
      conversationKey,
      direction: "inbound_to_agent",
      author: "tester",
      type: "message",
      text: `m${i}`,
    });
    if (publish) domain.hub.publish({ kind: "ledger", conversationKey, requestId: null, event });
    out.push(event);
  }
  return out;
}

function ledgerIds(items: EventStreamItem[]): string[] {
  return items.flatMap((i) => (i.kind === "message" && i.payload.kind === "event" ? [i.payload.event.eventId] : []));
}

/** Reads until an item with this label arrives; returns everything read. */
async function readUntil(it: AsyncIterator<EventStreamItem>, label: string): Promise<string[]> {
  const seen: string[] = [];
  while (!seen.includes(label)) {
    const next = await it.next();
    if (next.done) throw new Error(`stream ended before ${label}; saw ${seen.join(", ")}`);
    seen.push(describeItem(next.value));
  }
  return seen;
}

describe("openEventStream: replay", () => {
  it("rejects an empty conversation key", () => {
    let err: unknown;
    try {
      domain.openStream("");
    } catch (e) {
      err = e;
    }
    expect(isGatewayError(err, "INVALID_ARGUMENT") && err.message).toBe("conversation_key required");
  });

  it("replays the newest 50 events, oldest first, stamped with the ledger timestamp", async () => {
    const events = await appendMessages("agent-a", 60);
    const { it } = open("agent-a");
    const items = await take(it, 50);
    expect(ledgerIds(items)).toEqual(events.slice(10).map((e) => e.eventId));
    expect(items[0]).toMatchObject({ kind: "message", conversationKey: "agent-a", timestamp: events[10]?.timestamp });
  });

  it("resumes exactly after since_event_id at any depth, in pages", async () => {
    const events = await appendMessages("agent-a", 250);
    const { it } = open("agent-a", events[9]?.eventId);
    const items = await take(it, 240);
    expect(ledgerIds(items)).toEqual(events.slice(10).map((e) => e.eventId));
    const [live] = await appendMessages("agent-a", 1, true);
    expect(ledgerIds(await take(it, 1))).toEqual([live?.eventId]);
  });

  it("falls back to the newest 50 for an unknown id or another conversation's id", async () => {
    const [other] = await appendMessages("agent-b", 1);
    const events = await appendMessages("agent-a", 55);
    for (const since of ["no-such-id", other?.eventId as string]) {
      const { stream, it } = open("agent-a", since);
      expect(ledgerIds(await take(it, 50))).toEqual(events.slice(5).map((e) => e.eventId));
      stream.close();
    }
  });

  it("subscribes before replaying: an event committed in between arrives exactly once", async () => {
    const before = await appendMessages("agent-a", 2);
    const { it } = open("agent-a");
    const [between] = await appendMessages("agent-a", 1, true);
    const items = await take(it, 3);
    expect(ledgerIds(items)).toEqual([...before, between].map((e) => e?.eventId));
    const [after] = await appendMessages("agent-a", 1, true);
    expect(ledgerIds(await take(it, 1))).toEqual([after?.eventId]);
  });

  it("ends with INTERNAL `failed to fetch events` when the store read fails", async () => {
    const { it } = open("agent-a");
    await temp.store.close();
    const err = await it.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGatewayError(err, "INTERNAL") && err.message).toBe("failed to fetch events");
    expect(domain.hub.subscriberCount("agent-a")).toBe(0);
  });
});

describe("openEventStream: turns", () => {
  it("streams a turn live: ledger rows first, then the transient variant; done carries the joined text", async () => {
    const { it } = open("agent-a");
    const turn = await startTurn(domain, agent);
    agent.respond(turn.requestId, { kind: "thinking", text: "hmm" });
    agent.respond(turn.requestId, { kind: "text", text: "Hel" });
    agent.respond(turn.requestId, { kind: "tool_use", id: "t1", name: "bash", inputJson: "{}" });
    agent.respond(turn.requestId, { kind: "text", text: "lo" });
    agent.respond(turn.requestId, { kind: "done", fullResponse: "ignored", origin: "agent" });
    expect(await readUntil(it, "done:Hello")).toEqual([
      "event:message:hello",
      "thinking:hmm",
      "text:Hel",
      'event:tool_call:{"name":"bash","id":"t1","input":{}}',
      "tool_use:t1",
      "text:lo",
      "event:message:Hello",
      "done:Hello",
    ]);
  });

  it("reports a gateway-ended turn as a recoverable error after its ledger row", async () => {
    const { it } = open("agent-a");
    const turn = await startTurn(domain, agent);
    agent.disconnect();
    await turn.finished;
    expect(await readUntil(it, "error:agent disconnected:true")).toEqual([
      "event:message:hello",
      "event:error:agent disconnected",
      "error:agent disconnected:true",
    ]);
  });

  it("maps an agent cancel to a non-recoverable error `canceled: <reason>`", async () => {
    const { it } = open("agent-a");
    const turn = await startTurn(domain, agent);
    agent.respond(turn.requestId, { kind: "canceled", reason: "user_requested", origin: "agent" });
    expect((await readUntil(it, "error:canceled: user_requested:false")).at(-2)).toBe("event:system:canceled: user_requested");
  });

  it("catches a late subscriber up on a turn in flight with joined chunks", async () => {
    const turn = await startTurn(domain, agent);
    agent.respond(turn.requestId, { kind: "thinking", text: "a" });
    agent.respond(turn.requestId, { kind: "thinking", text: "b" });
    agent.respond(turn.requestId, { kind: "text", text: "Hel" });
    agent.respond(turn.requestId, { kind: "text", text: "lo" });
    agent.respond(turn.requestId, { kind: "tool_state", id: "t1", state: "running", detail: "" });
    agent.respond(turn.requestId, { kind: "text", text: " there" });
    await until(() => domain.conversations.snapshotInFlight("agent-a")[0]?.items.length === 4, "catch-up state");
    const { it } = open("agent-a");
    expect(await readUntil(it, "text: there")).toEqual(["event:message:hello", "thinking:ab", "text:Hello", "tool_state:t1", "text: there"]);
    agent.respond(turn.requestId, { kind: "text", text: "!" });
    agent.respond(turn.requestId, { kind: "done", fullResponse: "", origin: "agent" });
    expect(await readUntil(it, "done:Hello there!")).toEqual(["text:!", "event:message:Hello there!", "done:Hello there!"]);
  });

  it("shows a live approval once although the hub carries both the row and the agent event", async () => {
    const { it } = open("agent-a");
    const turn = await startTurn(domain, agent);
    agent.respond(turn.requestId, { kind: "tool_approval", id: "t1", name: "bash", inputJson: "{}", requestId: turn.requestId });
    agent.respond(turn.requestId, { kind: "text", text: "x" });
    const seen = await readUntil(it, "text:x");
    expect(seen).toEqual(["event:message:hello", "tool_approval:t1", "text:x"]);
  });

  it("resumes after a disconnect mid-turn with no loss and no duplicates", async () => {
    const first = open("agent-a");
    const turn = await startTurn(domain, agent);
    agent.respond(turn.requestId, { kind: "text", text: "Hel" });
    agent.respond(turn.requestId, { kind: "tool_use", id: "t1", name: "bash", inputJson: "{}" });
    const firstItems: EventStreamItem[] = [];
    while (!firstItems.some((i) => describeItem(i) === "tool_use:t1")) firstItems.push(...(await take(first.it, 1)));
    first.stream.close();
    expect((await first.it.next()).done).toBe(true);

    agent.respond(turn.requestId, { kind: "tool_result", id: "t1", output: "ok", isError: false });
    agent.respond(turn.requestId, { kind: "text", text: "lo" });
    await until(() => domain.conversations.snapshotInFlight("agent-a")[0]?.text === "Hello", "text received");
    const lastSeen = ledgerIds(firstItems).at(-1) as string;
    const second = open("agent-a", lastSeen);
    const head = await readUntil(second.it, "text:lo");
    expect(head).toEqual([
      'event:tool_result:{"id":"t1","output":"ok","is_error":false}',
      "text:Hel",
      "tool_use:t1",
      "tool_result:t1",
      "text:lo",
    ]);
    agent.respond(turn.requestId, { kind: "done", fullResponse: "", origin: "agent" });
    const tail = await readUntil(second.it, "done:Hello");
    expect(tail).toEqual(["event:message:Hello", "done:Hello"]);

    const all = await domain.ledger.listConversation({ conversationKey: "agent-a" });
    const firstIds = ledgerIds(firstItems);
    const secondIds = all.events.map((e) => e.eventId).filter((id) => !firstIds.includes(id));
    expect([...firstIds, ...secondIds]).toEqual(all.events.map((e) => e.eventId));
    expect(secondIds).toHaveLength(2);
  });
});

describe("openEventStream: ends", () => {
  it("cuts a slow subscriber off with a resumable reason while another keeps streaming", async () => {
    const slow = open("agent-a", undefined, { maxQueue: 4 });
    const fast = open("agent-a");
    const turn = await startTurn(domain, agent);
    const [userMessage] = await take(slow.it, 1);
    expect(await take(fast.it, 1)).toHaveLength(1);
    for (let i = 0; i < 10; i += 1) agent.respond(turn.requestId, { kind: "tool_use", id: `t${i}`, name: "bash", inputJson: "{}" });
    agent.respond(turn.requestId, { kind: "done", fullResponse: "fin", origin: "agent" });
    await turn.finished;

    const [end] = await take(slow.it, 1);
    expect(end).toEqual({
      kind: "end",
      reason: "slow_consumer",
      code: "RESOURCE_EXHAUSTED",
      message: "subscriber too slow; resume with since_event_id",
      resumeFromEventId: userMessage?.kind === "message" && userMessage.payload.kind === "event" ? userMessage.payload.event.eventId : "?",
    });
    expect((await slow.it.next()).done).toBe(true);
    expect(domain.hub.counters.subscriberOverflows).toBe(1);

    const fastItems = (await readUntil(fast.it, "done:fin")).filter((l) => l.startsWith("event:"));
    expect(fastItems).toHaveLength(11);

    const resumed = open("agent-a", (end as { resumeFromEventId: string }).resumeFromEventId);
    const replay = await take(resumed.it, 11);
    const expected = (await domain.ledger.listConversation({ conversationKey: "agent-a" })).events.slice(1);
    expect(ledgerIds(replay)).toEqual(expected.map((e) => e.eventId));
  });

  it("finishes with the status given to end() (shutdown)", async () => {
    const { stream, it } = open("agent-a");
    const pending = it.next();
    stream.end({ code: "UNAVAILABLE", message: "gateway shutting down" });
    expect((await pending).value).toEqual({
      kind: "end",
      reason: "ended",
      code: "UNAVAILABLE",
      message: "gateway shutting down",
      resumeFromEventId: undefined,
    });
    expect((await it.next()).done).toBe(true);
  });

  it("ends OK after the idle timeout with nothing sent; skipped hub events do not reset it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { it } = open("agent-a", undefined, { idleTimeoutMs: 1_000 });
    const next = it.next();
    await vi.advanceTimersByTimeAsync(600);
    const [event] = await appendMessages("agent-b", 1);
    domain.hub.publish({ kind: "ledger", conversationKey: "agent-a", requestId: null, event: { ...(event as LedgerEvent), seq: 0 } });
    await vi.advanceTimersByTimeAsync(400);
    expect((await next).value).toMatchObject({ kind: "end", reason: "idle_timeout", code: "OK" });
  });

  it("closes without a final item when the client goes away", async () => {
    const { stream, it } = open("agent-a");
    const pending = it.next();
    stream.close();
    expect((await pending).done).toBe(true);
    expect(domain.hub.subscriberCount("agent-a")).toBe(0);
  });
});

describe("openEventStream: restart", () => {
  it("resumes by event id after the database is reopened behind a new hub", async () => {
    const dir = makeTempDir();
    const path = join(dir, "gateway.db");
    let store: StoreDatabase | undefined = await openDatabase({ path, log: silentLogger });
    try {
      const before = buildDomain(store, createManualClock(T0));
      const a = new FakeAgent(before.agents, "agent-r");
      await a.register();
      const turn = await startTurn(before, a);
      for (let i = 0; i < 3; i += 1) a.respond(turn.requestId, { kind: "tool_use", id: `t${i}`, name: "bash", inputJson: "{}" });
      a.respond(turn.requestId, { kind: "done", fullResponse: "bye", origin: "agent" });
      await turn.finished;
      a.disconnect();
      before.close();
      const written = (await before.ledger.listConversation({ conversationKey: "agent-r" })).events;
      expect(written).toHaveLength(5);
      await store.close();

      store = await openDatabase({ path, log: silentLogger });
      const after = buildDomain(store, createManualClock(T0));
      const stream = after.openStream("agent-r", written[1]?.eventId);
      const items = await take(stream[Symbol.asyncIterator](), 3);
      stream.close();
      after.close();
      expect(ledgerIds(items)).toEqual(written.slice(2).map((e) => e.eventId));
    } finally {
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
