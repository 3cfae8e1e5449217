// ABOUTME: StreamEvents flow control through the real composition root with a small `limits.subscriberQueue`:
// ABOUTME: a slow subscriber is cut with a resumable reason while another keeps streaming, then resumes without loss.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { RESUME_TRAILER } from "../../src/rpc/client-conversation-handlers.js";
import type { EventFrame } from "../rpc/support/conversation-clients.js";
import {
  connectAgent,
  conversationEvents,
  createCleanups,
  openClient,
  sendMessage,
  startGateway,
  subscribe,
  waitUntil,
} from "./support/conversation-e2e.js";
import { parseExposition, valueOf } from "../support/prom-text.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

describe("a slow StreamEvents subscriber", () => {
  it("is disconnected with RESOURCE_EXHAUSTED and a resume point while the others keep streaming", async () => {
    const gw = await startGateway(cleanups, { limits: { subscriberQueue: 8 } });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "flood");
    const c = openClient(cleanups, gw.grpcAddr);
    const fast = await subscribe(cleanups, c, { conversation_key: "flood" });
    const slowClient = openClient(cleanups, gw.grpcAddr);
    const slow = await subscribe(cleanups, slowClient, { conversation_key: "flood" });
    slow.call.pause();

    await sendMessage(c, "flood", "flood me", "flood-1");
    const turn = (await agent.message(1)).request_id as string;
    const chunk = "x".repeat(16 * 1024);
    const chunks = 120;
    for (let i = 0; i < chunks; i += 1) {
      agent.respond(turn, { text: `${i}:${chunk}` });
      await fast.until((f) => f.filter((x) => x.payload === "text").length === i + 1, `chunk ${i} on the fast subscriber`);
    }
    await waitUntil(() => gw.gateway.hub.counters.subscriberOverflows === 1, "the slow subscriber to overflow");
    agent.respond(turn, { done: {} });
    await fast.next("done");
    expect(fast.frames.filter((f) => f.payload === "text")).toHaveLength(chunks);

    slow.call.resume();
    const status = await slow.status;
    expect({ code: status.code, details: status.details }).toEqual({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: "subscriber too slow; resume with since_event_id",
    });
    const resumeFrom = status.metadata.get(RESUME_TRAILER)[0] as string;
    expect(resumeFrom).toBe(slow.events.at(-1)!.id);
    expect(slow.frames.filter((f) => f.payload === "text").length).toBeLessThan(chunks);

    const resumed = await subscribe(cleanups, slowClient, { conversation_key: "flood", since_event_id: resumeFrom });
    await resumed.next("event", (f) => (f.event as EventFrame).author === "agent:flood");
    const received = [...slow.events, ...resumed.events].map((e) => e.id);
    expect(new Set(received).size).toBe(received.length);
    expect(received).toEqual((await conversationEvents(c, "flood")).map((e) => e.id));

    // The fast subscriber was never disturbed: it is still live for the next turn.
    await sendMessage(c, "flood", "next", "flood-2");
    await fast.next("event", (f) => (f.event as EventFrame).text === "next");
    expect(gw.gateway.hub.counters.subscriberOverflows).toBe(1);
    const metrics = parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
    expect(valueOf(metrics, "coven_subscriber_overflows_total", { kind: "stream_events" })).toBe(1);
    expect(valueOf(metrics, "coven_subscribers", { kind: "stream_events" })).toBe(2);
  });
});
