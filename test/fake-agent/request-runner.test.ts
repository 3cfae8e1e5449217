// ABOUTME: Every reply-script step of cli.md §4.4, played against the in-process fake server and read back from the trace.
// ABOUTME: Covers templating, delays, approvals, pack tools, terminal steps, auto-done, hang and disconnect.
import { afterEach, describe, expect, it } from "vitest";
import { parseScript, startFakeAgent, type FakeAgentHandle, type FakeAgentOptions } from "../../cmd/fake-agent/fake-agent.js";
import { startFakeServer, type FakeConnection, type FakeServer } from "./support/fake-server.js";

let server: FakeServer | undefined;
let agent: FakeAgentHandle | undefined;
let logs: string[] = [];

afterEach(async () => {
  await agent?.close();
  await server?.close();
  agent = undefined;
  server = undefined;
  logs = [];
});

async function withScript(script: unknown, options: Partial<FakeAgentOptions> = {}): Promise<FakeConnection> {
  server = await startFakeServer();
  agent = await startFakeAgent({ addr: server.addr, script: parseScript(script), log: (l) => logs.push(l), ...options });
  return server.connection(0);
}

type Json = Record<string, unknown>;

/** The `response` JSON objects the agent traced for one request, without the request id. */
function traced(requestId: string): Json[] {
  return agent!.trace.flatMap((e) => {
    const response = (e.msg as Json).response as Json | undefined;
    if (e.dir !== "out" || response?.requestId !== requestId) return [];
    const { requestId: _id, ...rest } = response;
    return [rest];
  });
}

function outFrames(kind: string): Json[] {
  return agent!.trace.filter((e) => e.dir === "out" && kind in (e.msg as Json)).map((e) => (e.msg as Json)[kind] as Json);
}

describe("script steps", () => {
  it("sends thinking, tool_use, tool_state, tool_result, usage, file and session events with templating", async () => {
    const conn = await withScript({
      default: [
        { thinking: "thinking about {{message}}" },
        { tool_use: { id: "t-{{request_id}}", name: "bash", input: { cmd: "echo {{sender}}", n: 2 } } },
        { tool_state: { id: "t1", state: "awaiting_approval", detail: "in {{thread_id}}" } },
        { tool_state: { id: "t1", state: "completed" } },
        { tool_result: { id: "t1", output: "a.txt\nb.txt" } },
        { tool_result: { id: "t2", output: "boom", is_error: true } },
        { usage: { input_tokens: 100, output_tokens: 50, thinking_tokens: 7 } },
        { file: { filename: "a.txt", mime_type: "text/plain", data_base64: "aGk=" } },
        { session_init: "sess-1" },
        { session_orphaned: "lost" },
        { done: "final {{message}}" },
      ],
    });
    const id = conn.sendMessage("hi", { requestId: "r1", threadId: "th-9", sender: "alice" });
    await conn.untilTerminal(id);
    expect(traced(id)).toEqual([
      { thinking: "thinking about hi" },
      { toolUse: { id: "t-r1", name: "bash", inputJson: '{"cmd":"echo alice","n":2}' } },
      { toolState: { id: "t1", state: "TOOL_STATE_AWAITING_APPROVAL", detail: "in th-9" } },
      { toolState: { id: "t1", state: "TOOL_STATE_COMPLETED" } },
      { toolResult: { id: "t1", output: "a.txt\nb.txt" } },
      { toolResult: { id: "t2", output: "boom", isError: true } },
      { usage: { inputTokens: 100, outputTokens: 50, thinkingTokens: 7 } },
      { file: { filename: "a.txt", mimeType: "text/plain", data: "aGk=" } },
      { sessionInit: { sessionId: "sess-1" } },
      { sessionOrphaned: { reason: "lost" } },
      { done: { fullResponse: "final hi" } },
    ]);
    const usage = conn.responses(id).find((e) => e.case === "usage")!.value as { cacheReadTokens: number; cacheWriteTokens: number };
    expect(usage.cacheReadTokens).toBe(0);
    expect(usage.cacheWriteTokens).toBe(0);
  });

  it("chunks text steps, spaces chunks by chunk_delay_ms, and done:true concatenates all text", async () => {
    const conn = await withScript({ default: [{ text: "abcdefghij", chunks: 3, chunk_delay_ms: 40 }, { text: "XY" }, { done: true }] });
    const id = conn.sendMessage("go");
    await conn.untilTerminal(id);
    expect(traced(id)).toEqual([{ text: "abcd" }, { text: "efg" }, { text: "hij" }, { text: "XY" }, { done: { fullResponse: "abcdefghijXY" } }]);
    const times = agent!.trace.filter((e) => e.dir === "out" && JSON.stringify(e.msg).includes('"text"')).map((e) => e.t);
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(75);
  });

  it("sends done automatically when the steps run out", async () => {
    const conn = await withScript({ rules: [{ match: "/^say (\\w+) (\\w+)$/", steps: [{ text: "{{2}} {{1}}" }] }] });
    const id = conn.sendMessage("say hello world");
    await conn.untilTerminal(id);
    expect(traced(id)).toEqual([{ text: "world hello" }, { done: { fullResponse: "world hello" } }]);
  });

  it("falls back to echo when no rule matches and there is no default", async () => {
    const conn = await withScript({ rules: [{ match: "special", steps: [{ done: "special" }] }] }, { doneDelayMs: 0 });
    const id = conn.sendMessage("plain");
    const events = await conn.untilTerminal(id);
    expect(events[0]).toMatchObject({ case: "text", value: expect.stringContaining("Echo: **plain**") });
  });

  it.each([
    [{ error: "bad {{message}}" }, { error: "bad m" }],
    [{ cancelled: "gave up" }, { cancelled: { reason: "gave up" } }],
  ])("ends the request with a terminal %j", async (step, expected) => {
    const conn = await withScript({ default: [{ text: "partial" }, step] });
    const id = conn.sendMessage("m");
    await conn.untilTerminal(id);
    expect(traced(id)).toEqual([{ text: "partial" }, expected]);
  });

  it("honours delay_ms and sleep_ms", async () => {
    const conn = await withScript({ default: [{ text: "a" }, { sleep_ms: 60 }, { text: "b", delay_ms: 60 }, { done: true }] });
    const id = conn.sendMessage("m");
    await conn.untilTerminal(id);
    const times = agent!.trace.filter((e) => e.dir === "out" && JSON.stringify(e.msg).includes('"text"')).map((e) => e.t);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(115);
  });

  it("sends a heartbeat frame for the heartbeat step", async () => {
    const conn = await withScript({ default: [{ heartbeat: true }, { done: "x" }] });
    const before = Date.now();
    const id = conn.sendMessage("m");
    await conn.untilTerminal(id);
    const beats = outFrames("heartbeat");
    expect(beats).toHaveLength(1);
    expect(Number(beats[0]!.timestampMs)).toBeGreaterThanOrEqual(before);
  });

  it("hang stops the request without a terminal event", async () => {
    const conn = await withScript({ rules: [{ match: "hang", steps: [{ text: "t" }, { hang: true }] }], default: [{ done: "ok" }] });
    const hung = conn.sendMessage("hang");
    const other = conn.sendMessage("other");
    await conn.untilTerminal(other);
    await new Promise((r) => setTimeout(r, 100));
    expect(traced(hung)).toEqual([{ text: "t" }]);
  });

  it("runs requests concurrently", async () => {
    const conn = await withScript({ rules: [{ match: "slow", steps: [{ sleep_ms: 300 }, { done: "slow" }] }], default: [{ done: "fast" }] });
    const slow = conn.sendMessage("slow");
    const fast = conn.sendMessage("fast");
    await conn.untilTerminal(fast);
    expect(traced(slow)).toEqual([]);
    await conn.untilTerminal(slow);
  });
});

describe("approval step", () => {
  const approvalScript = (extra: Json = {}) => ({
    default: [{ approval: { id: "t1", name: "bash", input: { cmd: "ls" }, ...extra } }, { text: "after" }, { done: true }],
  });

  it("sends tool_approval_request and continues on approve", async () => {
    const conn = await withScript(approvalScript());
    const id = conn.sendMessage("m");
    await conn.waitFor((m) => m.payload.case === "response" && m.payload.value.event.case === "toolApprovalRequest");
    conn.send({ payload: { case: "toolApproval", value: { id: "t1", approved: true } } });
    await conn.untilTerminal(id);
    expect(traced(id)).toEqual([
      { toolApprovalRequest: { id: "t1", name: "bash", inputJson: '{"cmd":"ls"}' } },
      { text: "after" },
      { done: { fullResponse: "after" } },
    ]);
    expect(agent!.trace.some((e) => e.dir === "in" && "toolApproval" in (e.msg as Json))).toBe(true);
  });

  it("continues on deny by default", async () => {
    const conn = await withScript(approvalScript());
    const id = conn.sendMessage("m");
    await conn.waitFor((m) => m.payload.case === "response" && m.payload.value.event.case === "toolApprovalRequest");
    conn.send({ payload: { case: "toolApproval", value: { id: "t1", approved: false } } });
    expect((await conn.untilTerminal(id)).at(-1)).toMatchObject({ case: "done" });
  });

  it("sends `tool <name> denied` and stops on deny with on_deny error", async () => {
    const conn = await withScript(approvalScript({ on_deny: "error" }));
    const id = conn.sendMessage("m");
    await conn.waitFor((m) => m.payload.case === "response" && m.payload.value.event.case === "toolApprovalRequest");
    conn.send({ payload: { case: "toolApproval", value: { id: "t1", approved: false } } });
    await conn.untilTerminal(id);
    expect(traced(id).slice(1)).toEqual([{ error: "tool bash denied" }]);
  });

  it("sends `approval timed out` and stops when no answer comes", async () => {
    const conn = await withScript(approvalScript({ timeout_ms: 50 }));
    const id = conn.sendMessage("m");
    await conn.untilTerminal(id);
    expect(traced(id).slice(1)).toEqual([{ error: "approval timed out" }]);
  });

  it("logs approvals nobody waits for", async () => {
    const conn = await withScript({ default: [{ done: "x" }] });
    conn.send({ payload: { case: "toolApproval", value: { id: "ghost", approved: true } } });
    conn.send({ payload: { case: "packToolResult", value: { requestId: "ghost-pack", result: { case: "outputJson", value: "{}" } } } });
    await expect.poll(() => logs).toEqual(expect.arrayContaining(["unmatched tool approval ghost", "unmatched pack tool result ghost-pack"]));
  });
});

describe("pack_tool step", () => {
  async function packCall(conn: FakeConnection) {
    const msg = await conn.waitFor((m) => m.payload.case === "executePackTool");
    if (msg.payload.case !== "executePackTool") throw new Error("unreachable");
    return msg.payload.value;
  }

  it("runs the spec's ask_user example: execute_pack_tool, tool_result, then {{last_result}}", async () => {
    const conn = await withScript({
      rules: [
        {
          match: "/^ask (.+)$/i",
          steps: [
            { pack_tool: { name: "ask_user", input: { question: "{{1}}", options: [{ label: "yes" }], timeout_seconds: 30 }, emit: "tool_result" } },
            { text: "You answered: {{last_result}}" },
            { done: true },
          ],
        },
      ],
    });
    const id = conn.sendMessage("Ask Tea or coffee?");
    const call = await packCall(conn);
    expect(call.toolName).toBe("ask_user");
    expect(JSON.parse(call.inputJson)).toEqual({ question: "Tea or coffee?", options: [{ label: "yes" }], timeout_seconds: 30 });
    expect(call.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const answer = '{"answered":true,"selected":["yes"]}';
    conn.send({ payload: { case: "packToolResult", value: { requestId: call.requestId, result: { case: "outputJson", value: answer } } } });
    await conn.untilTerminal(id);
    expect(traced(id)).toEqual([
      { toolResult: { id: call.requestId, output: answer } },
      { text: `You answered: ${answer}` },
      { done: { fullResponse: `You answered: ${answer}` } },
    ]);
  });

  it("reports an error result as is_error and as {{last_result}}", async () => {
    const conn = await withScript({ default: [{ pack_tool: { name: "t", input: {}, request_id: "p-{{request_id}}" } }, { done: "{{last_result}}" }] });
    const id = conn.sendMessage("m", { requestId: "r7" });
    const call = await packCall(conn);
    expect(call.requestId).toBe("p-r7");
    conn.send({ payload: { case: "packToolResult", value: { requestId: "p-r7", result: { case: "error", value: "no such tool" } } } });
    await conn.untilTerminal(id);
    expect(traced(id)).toEqual([{ toolResult: { id: "p-r7", output: "no such tool", isError: true } }, { done: { fullResponse: "no such tool" } }]);
  });

  it.each([
    ["text", [{ text: "42" }, { done: { fullResponse: "42" } }]],
    ["none", [{ done: {} }]],
  ])("emits the output as %s", async (emit, expected) => {
    const conn = await withScript({ default: [{ pack_tool: { name: "t", input: {}, request_id: "p1", emit } }] });
    const id = conn.sendMessage("m");
    await packCall(conn);
    conn.send({ payload: { case: "packToolResult", value: { requestId: "p1", result: { case: "outputJson", value: "42" } } } });
    await conn.untilTerminal(id);
    expect(traced(id)).toEqual(expected);
  });

  it("sends `pack tool timed out` and stops on timeout", async () => {
    const conn = await withScript({ default: [{ pack_tool: { name: "t", input: {}, timeout_ms: 50 } }, { text: "never" }] });
    const id = conn.sendMessage("m");
    await conn.untilTerminal(id);
    expect(traced(id)).toEqual([{ error: "pack tool timed out" }]);
  });
});

describe("disconnect step", () => {
  it("resets the whole stream after flushing earlier frames; the agent exits 1 without -reconnect", async () => {
    const conn = await withScript({ default: [{ text: "before" }, { disconnect: true }] });
    const id = conn.sendMessage("m");
    expect(await conn.clientEnded).toBe("cancelled");
    expect(conn.responses(id)).toEqual([{ case: "text", value: "before" }]);
    expect(await agent!.closed).toEqual({ code: 1, reason: "disconnected" });
  });

  it("reconnects and registers again with -reconnect", async () => {
    const conn = await withScript({ default: [{ disconnect: true }] }, { reconnect: true });
    conn.sendMessage("m");
    expect(await conn.clientEnded).toBe("cancelled");
    const again = await server!.connection(1, 5_000);
    expect(again.register?.agentId).toBe("e2e-echo-agent");
    await expect.poll(() => agent!.welcome.instanceId).toBe("00000002-abcd");
    expect(logs.some((l) => l.startsWith("disconnected; reconnecting in 500ms"))).toBe(true);
  });
});
