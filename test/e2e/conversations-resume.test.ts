// ABOUTME: StreamEvents resume through the real composition root: a grpc-js subscriber that drops mid-turn, and one
// ABOUTME: cut by a gateway restart, resume with since_event_id and receive every ledger event exactly once.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { RESUME_TRAILER } from "../../src/rpc/client-conversation-handlers.js";
import type { EventFrame, StreamFrame } from "../rpc/support/conversation-clients.js";
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

const cleanups = createCleanups();
afterEach(() => cleanups.run());

/** A readable name for one StreamEvents frame: `event:<type>:<text>` for ledger rows, else the payload case. */
function label(frame: StreamFrame): string {
  if (frame.payload === "event") {
    const e = frame.event as EventFrame;
    return `event:${e.type}:${e.text ?? ""}`;
  }
  if (frame.payload === "text") return `text:${(frame.text as { content: string }).content}`;
  return frame.payload;
}

function expectExactlyOnce(received: string[], ledger: EventFrame[]): void {
  expect(new Set(received).size).toBe(received.length);
  expect(received).toEqual(ledger.map((e) => e.id));
}

describe("StreamEvents resume through the whole gateway", () => {
  it("a subscriber that disconnects mid-turn and reconnects with since_event_id loses and repeats no event", async () => {
    const gw = await startGateway(cleanups);
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "resumer");
    const c = openClient(cleanups, gw.grpcAddr);
    const first = await subscribe(cleanups, c, { conversation_key: "resumer" });
    await sendMessage(c, "resumer", "start", "resume-1");
    const turn = (await agent.message(1)).request_id as string;
    agent.respond(turn, { tool_use: { id: "t1", name: "read", input_json: "{}" } });
    agent.respond(turn, { tool_result: { id: "t1", output: "one", is_error: false } });
    agent.respond(turn, { text: "partial " });
    await first.next("text");
    expect((await first.cancel()).code).toBe(grpc.status.CANCELLED);
    await waitUntil(() => gw.gateway.hub.subscriberCount("resumer") === 0, "the first subscription to close");
    const seen = first.events.map((e) => e.id);
    expect(first.events.map((e) => e.type)).toEqual(["message", "tool_call", "tool_result"]);

    // Nobody listens while the turn goes on.
    agent.respond(turn, { tool_use: { id: "t2", name: "read", input_json: "{}" } });
    agent.respond(turn, { tool_result: { id: "t2", output: "two", is_error: false } });
    await waitUntil(async () => (await conversationEvents(c, "resumer")).length === 5, "the rows written while disconnected");

    const second = await subscribe(cleanups, c, { conversation_key: "resumer", since_event_id: seen.at(-1)! });
    await second.until((f) => f.length === 7, "the missed rows and the in-flight catch-up");
    expect(second.frames.map(label)).toEqual([
      "event:tool_call:{\"name\":\"read\",\"id\":\"t2\",\"input\":{}}",
      "event:tool_result:{\"id\":\"t2\",\"output\":\"two\",\"is_error\":false}",
      "tool_use",
      "tool_result",
      "text:partial ",
      "tool_use",
      "tool_result",
    ]);
    agent.respond(turn, { text: "end" });
    agent.respond(turn, { done: {} });
    expect((await second.next("done")).done).toEqual({ full_response: "partial end" });
    await second.next("event", (f) => (f.event as EventFrame).text === "partial end");

    expectExactlyOnce([...seen, ...second.events.map((e) => e.id)], await conversationEvents(c, "resumer"));
  });

  it("resumes by id across a gateway restart on the same directory, from a dropped and from a cut subscriber", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coven-e2e-restart-"));
    cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
    const before = await startGateway(cleanups, { dir, limits: { shutdownTimeoutMs: 200 } });
    const { agent: a1 } = await connectAgent(cleanups, before.grpcAddr, "durable");
    const c1 = openClient(cleanups, before.grpcAddr);
    const dropped = await subscribe(cleanups, c1, { conversation_key: "durable" });
    const cut = await subscribe(cleanups, c1, { conversation_key: "durable" });
    await sendMessage(c1, "durable", "one", "restart-1");
    const turn = (await a1.message(1)).request_id as string;
    a1.respond(turn, { tool_use: { id: "t1", name: "read", input_json: "{}" } });
    await dropped.next("tool_use");
    await dropped.cancel();
    a1.respond(turn, { tool_result: { id: "t1", output: "ok", is_error: false } });
    a1.respond(turn, { text: "half" });
    await waitUntil(async () => (await conversationEvents(c1, "durable")).length === 3, "the tool_result row");

    // The stop ends the turn (partial text flushed, `gateway shutting down` persisted) and then the live stream.
    await before.stop();
    const cutStatus = await cut.status;
    expect({ code: cutStatus.code, details: cutStatus.details }).toEqual({ code: grpc.status.UNAVAILABLE, details: "gateway shutting down" });
    const cutResume = cutStatus.metadata.get(RESUME_TRAILER)[0] as string;
    expect(cutResume).toBe(cut.events.at(-1)!.id);
    const droppedSeen = dropped.events.map((e) => e.id);
    const cutSeen = cut.events.map((e) => e.id);

    const after = await startGateway(cleanups, { dir });
    const { agent: a2 } = await connectAgent(cleanups, after.grpcAddr, "durable");
    const c2 = openClient(cleanups, after.grpcAddr);
    const resumedDropped = await subscribe(cleanups, c2, { conversation_key: "durable", since_event_id: droppedSeen.at(-1)! });
    const resumedCut = await subscribe(cleanups, c2, { conversation_key: "durable", since_event_id: cutResume });
    await resumedDropped.until((f) => f.length === 3, "the rows written before the restart");
    expect(resumedDropped.frames.map(label)).toEqual([
      "event:tool_result:{\"id\":\"t1\",\"output\":\"ok\",\"is_error\":false}",
      "event:message:half",
      "event:error:gateway shutting down",
    ]);

    await sendMessage(c2, "durable", "two", "restart-2");
    a2.respond((await a2.message(1)).request_id as string, { done: { full_response: "fine" } });
    for (const reader of [resumedDropped, resumedCut]) {
      await reader.next("done");
      await reader.next("event", (f) => (f.event as EventFrame).text === "fine");
    }

    const ledger = await conversationEvents(c2, "durable");
    expect(ledger.map((e) => `${e.type}:${e.text}`)).toEqual([
      "message:one",
      "tool_call:{\"name\":\"read\",\"id\":\"t1\",\"input\":{}}",
      "tool_result:{\"id\":\"t1\",\"output\":\"ok\",\"is_error\":false}",
      "message:half",
      "error:gateway shutting down",
      "message:two",
      "message:fine",
    ]);
    expectExactlyOnce([...droppedSeen, ...resumedDropped.events.map((e) => e.id)], ledger);
    expectExactlyOnce([...cutSeen, ...resumedCut.events.map((e) => e.id)], ledger);
  });
});
