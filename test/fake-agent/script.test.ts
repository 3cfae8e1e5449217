// ABOUTME: Reply-script loading and validation: every malformed shape is refused with `script error: <path>: …`.
// ABOUTME: Valid scripts normalize to steps with their defaults (chunks 1, approval 60 s, pack tool 330 s).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadScript, parseScript } from "../../cmd/fake-agent/fake-agent.js";

const dir = mkdtempSync(join(tmpdir(), "fake-agent-script-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeScript(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("loadScript", () => {
  it("loads the spec's approval example with defaults filled in", () => {
    const path = writeScript(
      "ok.json",
      JSON.stringify({
        rules: [{ match: "/^ask (.+)$/i", steps: [{ pack_tool: { name: "ask_user", input: { question: "{{1}}" } } }, { done: true }] }],
        default: [
          { thinking: "planning", delay_ms: 5 },
          { approval: { id: "t1", name: "bash", input: { cmd: "ls" } } },
          { text: "Done listing {{message}}", chunks: 20, chunk_delay_ms: 25 },
          { usage: { input_tokens: 100, output_tokens: 50 } },
        ],
      }),
    );
    const script = loadScript(path);
    expect(script.rules[0]!.matcher).toEqual({ kind: "regex", source: "^ask (.+)$", flags: "i" });
    expect(script.rules[0]!.steps[0]).toEqual({
      kind: "pack_tool",
      name: "ask_user",
      input: { question: "{{1}}" },
      timeoutMs: 330000,
      emit: "tool_result",
      delayMs: 0,
    });
    expect(script.default).toEqual([
      { kind: "thinking", text: "planning", delayMs: 5 },
      { kind: "approval", id: "t1", name: "bash", input: { cmd: "ls" }, timeoutMs: 60000, onDeny: "continue", delayMs: 0 },
      { kind: "text", text: "Done listing {{message}}", chunks: 20, chunkDelayMs: 25, delayMs: 0 },
      { kind: "usage", inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0, thinkingTokens: 0, delayMs: 0 },
    ]);
  });

  it("reports a missing file and invalid JSON with the path", () => {
    const missing = join(dir, "nope.json");
    expect(() => loadScript(missing)).toThrow(new RegExp(`^script error: ${missing}: ENOENT`));
    const bad = writeScript("bad.json", "{ rules: [");
    expect(() => loadScript(bad)).toThrow(new RegExp(`^script error: ${bad}: invalid JSON: `));
  });

  it("names the offending step in shape errors", () => {
    const path = writeScript("shape.json", JSON.stringify({ rules: [{ match: "x", steps: [{ text: "a" }, { bogus: 1 }] }] }));
    expect(() => loadScript(path)).toThrow(`script error: ${path}: rules[0].steps[1]: unknown step "bogus"`);
  });
});

describe("parseScript validation", () => {
  const cases: Array<[string, unknown, string]> = [
    ["root not an object", [], 'script: "script" must be an object'],
    ["unknown top-level key", { rulez: [] }, 'script: unknown field "rulez"'],
    ["rules not an array", { rules: {} }, "rules: must be an array"],
    ["empty match", { rules: [{ match: "", steps: [] }] }, 'rules[0]: "match" must not be empty'],
    ["bad regex", { rules: [{ match: "/(/", steps: [] }] }, "rules[0]: invalid regex /(/:"],
    ["steps missing", { rules: [{ match: "a" }] }, "rules[0].steps: must be an array of steps"],
    ["two step keys", { default: [{ text: "a", thinking: "b" }] }, "default[0]: more than one step key (text, thinking)"],
    ["no step key", { default: [{ delay_ms: 3 }] }, "default[0]: no step key"],
    ["negative delay", { default: [{ text: "a", delay_ms: -1 }] }, 'default[0]: "delay_ms" must be an integer'],
    ["chunks 0", { default: [{ text: "a", chunks: 0 }] }, 'default[0]: "chunks" must be an integer between 1'],
    ["chunks on non-text", { default: [{ thinking: "a", chunks: 2 }] }, 'default[0]: "chunks" and "chunk_delay_ms" belong to a text step'],
    ["text not string", { default: [{ text: 5 }] }, 'default[0]: "text" must be a string'],
    ["tool_use without id", { default: [{ tool_use: { name: "x" } }] }, 'default[0].tool_use: "id" must be a string'],
    ["bad tool state", { default: [{ tool_state: { id: "t", state: "exploded" } }] }, 'default[0].tool_state: "state" must be one of pending'],
    ["is_error not bool", { default: [{ tool_result: { id: "t", output: "o", is_error: "yes" } }] }, 'default[0].tool_result: "is_error" must be a boolean'],
    ["bad on_deny", { default: [{ approval: { id: "t", name: "n", on_deny: "explode" } }] }, 'default[0].approval: "on_deny" must be "continue" or "error"'],
    ["bad emit", { default: [{ pack_tool: { name: "n", emit: "json" } }] }, 'default[0].pack_tool: "emit" must be "tool_result", "text" or "none"'],
    ["unknown pack field", { default: [{ pack_tool: { name: "n", tool: "x" } }] }, 'default[0].pack_tool: unknown field "tool"'],
    ["usage not int", { default: [{ usage: { input_tokens: 1.5 } }] }, 'default[0].usage: "input_tokens" must be an integer between 0 and 2147483647'],
    ["bad base64", { default: [{ file: { filename: "f", mime_type: "text/plain", data_base64: "@@" } }] }, 'default[0].file: "data_base64" is not valid base64'],
    ["done false", { default: [{ done: false }] }, 'default[0]: "done" must be a string or true'],
    ["hang false", { default: [{ hang: false }] }, 'default[0]: "hang" must be true'],
    ["heartbeat 1", { default: [{ heartbeat: 1 }] }, 'default[0]: "heartbeat" must be true'],
    ["sleep_ms string", { default: [{ sleep_ms: "5" }] }, 'default[0]: "sleep_ms" must be an integer'],
    ["step after terminal", { default: [{ done: true }, { text: "late" }] }, 'default[1]: unreachable after "done" step'],
  ];
  it.each(cases)("rejects %s", (_name, doc, detail) => {
    expect(() => parseScript(doc, "s.json")).toThrow(`script error: s.json: ${detail}`);
  });

  it("treats a non-regex match as a lower-cased substring and drops g/y regex flags", () => {
    const script = parseScript({ rules: [{ match: "Approve Me", steps: [] }, { match: "/a+/gimy", steps: [] }] });
    expect(script.rules.map((r) => r.matcher)).toEqual([
      { kind: "substring", needle: "approve me" },
      { kind: "regex", source: "a+", flags: "im" },
    ]);
  });
});
