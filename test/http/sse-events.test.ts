// ABOUTME: SSE frame encoding: sorted keys at every level, one-line data, and the data keys of each agent event.
// ABOUTME: Pure functions, so the exact bytes are pinned here independent of any socket.
import { describe, expect, it } from "vitest";
import { agentEventFrame, sortedJson, sseFrame } from "../../src/http/sse-events.js";

describe("sortedJson", () => {
  it("sorts object keys at every level, keeps array order, and stays on one line", () => {
    expect(sortedJson({ b: 1, a: { d: [{ z: 1, y: "l1\nl2" }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":"l1\\nl2","z":1}]},"b":1}');
  });
});

describe("sseFrame", () => {
  it("is an event line, one data line and a blank line", () => {
    expect(sseFrame("x", { b: 2, a: 1 })).toBe('event: x\ndata: {"a":1,"b":2}\n\n');
  });
});

describe("agentEventFrame", () => {
  it("sends is_error as a boolean, usage as integers and never file bytes", () => {
    expect(agentEventFrame({ kind: "tool_result", id: "t", output: "o", isError: true })).toBe(
      'event: tool_result\ndata: {"id":"t","is_error":true,"output":"o"}\n\n',
    );
    expect(agentEventFrame({ kind: "usage", inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, thinkingTokens: 0 })).toBe(
      'event: usage\ndata: {"cache_read_tokens":0,"cache_write_tokens":0,"input_tokens":1,"output_tokens":2,"thinking_tokens":0}\n\n',
    );
    expect(agentEventFrame({ kind: "file", filename: "f", mimeType: "text/plain", data: new Uint8Array([65]) })).toBe(
      'event: file\ndata: {"filename":"f","mime_type":"text/plain"}\n\n',
    );
    expect(agentEventFrame({ kind: "canceled", reason: "r", origin: "gateway" })).toBe('event: canceled\ndata: {"reason":"r"}\n\n');
    expect(agentEventFrame({ kind: "tool_state", id: "t", state: "unknown", detail: "" })).toBe(
      'event: tool_state\ndata: {"detail":"","id":"t","state":"unknown"}\n\n',
    );
  });
});
