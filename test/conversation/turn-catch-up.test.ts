// ABOUTME: Tests the per-turn catch-up buffer: adjacent text/thinking joined, approvals and file bytes left out,
// ABOUTME: and a terminal event ending the turn so it leaves every later snapshot.
import { describe, expect, it } from "vitest";
import { TurnCatchUp } from "../../src/conversation/turn-catch-up.js";

describe("TurnCatchUp", () => {
  it("joins adjacent chunks of one kind and keeps the order of everything else", () => {
    const c = new TurnCatchUp("r1");
    c.add({ kind: "thinking", text: "a" }, "t1");
    c.add({ kind: "thinking", text: "b" }, "t2");
    c.add({ kind: "text", text: "He" }, "t3");
    c.add({ kind: "text", text: "llo" }, "t4");
    c.add({ kind: "tool_use", id: "u1", name: "bash", inputJson: "{}" }, "t5");
    c.add({ kind: "tool_approval", id: "u1", name: "bash", inputJson: "{}", requestId: "r1" }, "t6");
    c.add({ kind: "text", text: "!" }, "t7");
    c.add({ kind: "file", filename: "f.png", mimeType: "image/png", data: new Uint8Array([1, 2, 3]) }, "t8");
    const snap = c.snapshot();
    expect(snap).toMatchObject({ requestId: "r1", hasText: true, text: "Hello!" });
    expect(snap.items).toEqual([
      { event: { kind: "thinking", text: "ab" }, at: "t1" },
      { event: { kind: "text", text: "Hello" }, at: "t3" },
      { event: { kind: "tool_use", id: "u1", name: "bash", inputJson: "{}" }, at: "t5" },
      { event: { kind: "text", text: "!" }, at: "t7" },
      { event: { kind: "file", filename: "f.png", mimeType: "image/png", data: new Uint8Array(0) }, at: "t8" },
    ]);
  });

  it("does not let later chunks change an earlier snapshot", () => {
    const c = new TurnCatchUp("r1");
    c.add({ kind: "text", text: "a" }, "t1");
    const before = c.snapshot();
    c.add({ kind: "text", text: "b" }, "t2");
    expect(before.items).toEqual([{ event: { kind: "text", text: "a" }, at: "t1" }]);
    expect(c.snapshot().items).toEqual([{ event: { kind: "text", text: "ab" }, at: "t1" }]);
  });

  it("ends on a terminal event", () => {
    const c = new TurnCatchUp("r1");
    c.add({ kind: "text", text: "a" }, "t1");
    expect(c.isEnded).toBe(false);
    c.add({ kind: "done", fullResponse: "", origin: "agent" }, "t2");
    expect(c.isEnded).toBe(true);
    expect(c.snapshot().items).toEqual([]);
  });
});
