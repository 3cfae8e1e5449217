// ABOUTME: The stored JSON texts of tool_call and tool_result ledger rows (store.md §5): key order, escaping,
// ABOUTME: and how input_json is spliced: verbatim when valid JSON, {} when empty, a JSON string otherwise.
import { describe, expect, it } from "vitest";
import { toolCallText, toolResultText } from "../../src/conversation/tool-text.js";

describe("tool texts", () => {
  it("splices valid input JSON verbatim", () => {
    expect(toolCallText("bash", "t1", '{"cmd":"ls"}')).toBe('{"name":"bash","id":"t1","input":{"cmd":"ls"}}');
  });

  it("stores empty input as {}", () => {
    expect(toolCallText("bash", "t1", "")).toBe('{"name":"bash","id":"t1","input":{}}');
  });

  it("stores input that is not JSON (whitespace included) as a JSON string", () => {
    expect(toolCallText("bash", "t1", "not json")).toBe('{"name":"bash","id":"t1","input":"not json"}');
    expect(toolCallText("bash", "t1", "  ")).toBe('{"name":"bash","id":"t1","input":"  "}');
  });

  it("escapes names and ids, and the result text carries is_error", () => {
    expect(toolCallText('na"me', "i\\d", "{}")).toBe('{"name":"na\\"me","id":"i\\\\d","input":{}}');
    expect(toolResultText("t1", "line1\nline2", true)).toBe('{"id":"t1","output":"line1\\nline2","is_error":true}');
  });
});
