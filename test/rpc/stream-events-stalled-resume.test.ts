// ABOUTME: A grpc-js StreamEvents subscriber that stalls while many ledger rows are written is ended
// ABOUTME: RESOURCE_EXHAUSTED; resuming from the last event it received loses and repeats nothing (issue 15 item 10).
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { conversationClient, EventStreamReader, ScriptedAgent, unary, type EventFrame } from "./support/conversation-clients.js";
import { startConversationRpc } from "./support/conversation-rpc-harness.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function waitUntil(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function subscribe(c: ReturnType<typeof conversationClient>, request: { conversation_key: string; since_event_id?: string }): Promise<EventStreamReader> {
  const reader = new EventStreamReader(c, request);
  cleanups.push(() => {
    reader.call.cancel();
  });
  await reader.headers;
  return reader;
}

describe("StreamEvents: a stalled grpc-js subscriber", () => {
  it("resumes from its own last received event id with no ledger row lost or repeated", async () => {
    const h = await startConversationRpc({ stream: { maxQueue: 8 } });
    cleanups.push(() => h.stop());
    const a = await ScriptedAgent.connect(h.addr, "rows", {});
    cleanups.push(() => a.close());
    const c = conversationClient(h.addr);
    cleanups.push(() => c.close());
    const slowClient = conversationClient(h.addr);
    cleanups.push(() => slowClient.close());

    const fast = await subscribe(c, { conversation_key: "rows" });
    const slow = await subscribe(slowClient, { conversation_key: "rows" });
    slow.call.pause();
    const sent = await unary<{ message_id: string }>(c, "SendMessage", { idempotency_key: "flood-1", conversation_key: "rows", content: "flood" });
    expect(sent.ok).toBe(true);
    const requestId = (await a.message(1)).request_id as string;
    const pad = "y".repeat(8 * 1024);
    const rounds = 120;
    for (let i = 0; i < rounds; i += 1) {
      // Every tool_use is a committed ledger row; the padding text fills the stalled subscriber's buffers.
      a.respond(requestId, { tool_use: { id: `t${i}`, name: "step", input_json: JSON.stringify({ i, pad }) } });
      await fast.until((f) => f.filter((x) => x.payload === "tool_use").length === i + 1, `tool_use ${i}`);
    }
    a.respond(requestId, { done: { full_response: "all done" } });
    await fast.next("done");
    await waitUntil(() => h.hub.counters.subscriberOverflows >= 1, "the slow subscriber to overflow");

    slow.call.resume();
    const status = await slow.status;
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const seen = slow.events.map((e) => e.id);
    expect(seen.length).toBeGreaterThan(0);

    const resumed = await subscribe(slowClient, { conversation_key: "rows", since_event_id: seen.at(-1)! });
    await resumed.next("event", (f) => (f.event as EventFrame).text === "all done");
    const received = [...seen, ...resumed.events.map((e) => e.id)];
    expect(new Set(received).size).toBe(received.length);
    const page = await h.ledger.listConversation({ conversationKey: "rows", limit: 500 });
    expect(received).toEqual(page.events.map((e) => e.eventId));
  });
});
