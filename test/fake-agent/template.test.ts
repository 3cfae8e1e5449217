// ABOUTME: Rule selection, placeholder substitution and even text chunking used by the fake agent's replies.
// ABOUTME: Pure functions, so no server is needed here.
import { describe, expect, it } from "vitest";
import { parseScript } from "../../cmd/fake-agent/fake-agent.js";
import { echoReply, renderDeep, renderTemplate, selectSteps, splitIntoChunks, type TemplateContext } from "../../cmd/fake-agent/template.js";

const ctx: TemplateContext = { message: "ask Tea?", requestId: "r1", threadId: "th", sender: "bob", groups: ["ask Tea?", "Tea?"], lastResult: "{\"a\":1}" };

describe("templating", () => {
  it("substitutes every placeholder once, leaving unknown ones", () => {
    expect(renderTemplate("{{message}}|{{request_id}}|{{thread_id}}|{{sender}}|{{1}}|{{2}}|{{last_result}}|{{other}}", ctx)).toBe(
      'ask Tea?|r1|th|bob|Tea?||{"a":1}|{{other}}',
    );
    expect(renderTemplate("{{message}}", { ...ctx, message: "{{request_id}}" })).toBe("{{request_id}}");
  });

  it("walks nested inputs without touching non-strings", () => {
    expect(renderDeep({ q: "{{1}}", opts: [{ label: "{{sender}}" }], n: 3, b: true, z: null }, ctx)).toEqual({
      q: "Tea?",
      opts: [{ label: "bob" }],
      n: 3,
      b: true,
      z: null,
    });
  });
});

describe("selectSteps", () => {
  const script = parseScript({
    rules: [
      { match: "approve ME", steps: [{ done: "a" }] },
      { match: "/^ask (.+)$/i", steps: [{ done: "b" }] },
    ],
    default: [{ done: "c" }],
  });

  it("uses the first matching rule: case-insensitive substring, then regex with groups", () => {
    expect(selectSteps(script, "please Approve me now")?.steps[0]).toMatchObject({ text: "a" });
    expect(selectSteps(script, "ASK approve me")?.steps[0]).toMatchObject({ text: "a" });
    expect(selectSteps(script, "Ask the thing")).toMatchObject({ steps: [{ text: "b" }], groups: ["Ask the thing", "the thing"] });
  });

  it("falls back to default, and to echo (undefined) without one", () => {
    expect(selectSteps(script, "nothing")?.steps[0]).toMatchObject({ text: "c" });
    expect(selectSteps(parseScript({ rules: [] }), "nothing")).toBeUndefined();
    expect(selectSteps(undefined, "nothing")).toBeUndefined();
  });
});

describe("splitIntoChunks", () => {
  it("splits by code points as evenly as possible, larger pieces first", () => {
    expect(splitIntoChunks("abcdefghij", 3)).toEqual(["abcd", "efg", "hij"]);
    expect(splitIntoChunks("abcdef", 1)).toEqual(["abcdef"]);
    expect(splitIntoChunks("a😀b😀", 2)).toEqual(["a😀", "b😀"]);
  });

  it("never yields empty pieces, except one for empty text", () => {
    expect(splitIntoChunks("ab", 5)).toEqual(["a", "b"]);
    expect(splitIntoChunks("", 3)).toEqual([""]);
  });
});

describe("echoReply", () => {
  it("matches the reference texts byte for byte", () => {
    expect(echoReply("Hi")).toBe("Echo: **Hi**\n\nI received your message and am responding with some *formatted* text.");
    expect(echoReply("LISTING")).toBe(
      "Here is a **markdown** response:\n\n- First item\n- Second item with `code`\n- Third item\n\n> This is a blockquote.\n",
    );
  });
});
