// ABOUTME: Echo mode of the fake agent against the in-process fake server: byte-exact texts, chunking, done delay.
// ABOUTME: Also checks the register frame carries the §4.2 defaults and the trace records both directions.
import { afterEach, describe, expect, it } from "vitest";
import { startFakeAgent, type FakeAgentHandle } from "../../cmd/fake-agent/fake-agent.js";
import { startFakeServer, type FakeServer } from "./support/fake-server.js";

const ECHO_HELLO = "Echo: **hello there**\n\nI received your message and am responding with some *formatted* text.";
const MARKDOWN =
  "Here is a **markdown** response:\n\n- First item\n- Second item with `code`\n- Third item\n\n> This is a blockquote.\n";

let server: FakeServer | undefined;
let agent: FakeAgentHandle | undefined;

afterEach(async () => {
  await agent?.close();
  await server?.close();
  agent = undefined;
  server = undefined;
});

function texts(events: { case?: string; value?: unknown }[]): string[] {
  return events.filter((e) => e.case === "text").map((e) => e.value as string);
}

describe("fake-agent echo mode", () => {
  it("registers with the reference defaults and no auth headers", async () => {
    server = await startFakeServer();
    const lines: string[] = [];
    agent = await startFakeAgent({ addr: server.addr, log: (l) => lines.push(l) });
    const conn = await server.connection(0);
    const reg = conn.register!;
    expect(reg.agentId).toBe("e2e-echo-agent");
    expect(reg.name).toBe("Echo Agent");
    expect(reg.capabilities).toEqual(["chat", "echo"]);
    expect(reg.protocolFeatures).toEqual([]);
    expect(reg.metadata).toMatchObject({ workingDirectory: "/tmp/fake-agent", hostname: "e2e-test", os: "test", backend: "direct", workspaces: [] });
    expect(conn.metadata.authorization).toBeUndefined();
    expect(agent.welcome).toMatchObject({ agentId: "e2e-echo-agent", principalId: "anonymous", serverId: "coven-gateway-42" });
    expect(lines).toContain(`registered as e2e-echo-agent (instance: ${agent.welcome.instanceId})`);
  });

  it("echoes the exact reply text and ends with done carrying the whole reply", async () => {
    server = await startFakeServer();
    const lines: string[] = [];
    agent = await startFakeAgent({ addr: server.addr, log: (l) => lines.push(l), doneDelayMs: 0 });
    const conn = await server.connection(0);
    const id = conn.sendMessage("hello there");
    const events = await conn.untilTerminal(id);
    expect(texts(events)).toEqual([ECHO_HELLO]);
    expect(events.at(-1)).toEqual(expect.objectContaining({ case: "done", value: expect.objectContaining({ fullResponse: ECHO_HELLO }) }));
    expect(lines).toContain(`received message [${id}]: hello there`);
  });

  it("quotes at most 120 characters of a long message in its log line, newlines escaped", async () => {
    server = await startFakeServer();
    const lines: string[] = [];
    agent = await startFakeAgent({ addr: server.addr, log: (l) => lines.push(l), doneDelayMs: 0 });
    const conn = await server.connection(0);
    const long = "line one\n" + "x".repeat(5_000);
    const id = conn.sendMessage(long);
    await conn.untilTerminal(id);
    const logged = lines.find((l) => l.startsWith(`received message [${id}]: `))!;
    expect(logged).toBe(`received message [${id}]: line one\\n${"x".repeat(110)}… (${long.length} chars)`);
  });

  it("answers markdown/bullet/list requests with the markdown reply", async () => {
    server = await startFakeServer();
    agent = await startFakeAgent({ addr: server.addr, log: () => {}, doneDelayMs: 0 });
    const conn = await server.connection(0);
    for (const content of ["show me MARKDOWN", "a Bullet please", "todo list"]) {
      const id = conn.sendMessage(content);
      expect(texts(await conn.untilTerminal(id))).toEqual([MARKDOWN]);
    }
  });

  it("sends content containing placeholders verbatim", async () => {
    server = await startFakeServer();
    agent = await startFakeAgent({ addr: server.addr, log: () => {}, doneDelayMs: 0 });
    const conn = await server.connection(0);
    const id = conn.sendMessage("{{request_id}} {{message}}");
    expect(texts(await conn.untilTerminal(id)).join("")).toContain("Echo: **{{request_id}} {{message}}**");
  });

  it("splits the reply into -chunks text events that concatenate to the reply", async () => {
    server = await startFakeServer();
    agent = await startFakeAgent({ addr: server.addr, log: () => {}, chunks: 7, chunkDelayMs: 5, doneDelayMs: 0 });
    const conn = await server.connection(0);
    const id = conn.sendMessage("hello there");
    const parts = texts(await conn.untilTerminal(id));
    expect(parts).toHaveLength(7);
    expect(parts.join("")).toBe(ECHO_HELLO);
    const sizes = parts.map((p) => Array.from(p).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("waits -done-delay-ms before done", async () => {
    server = await startFakeServer();
    agent = await startFakeAgent({ addr: server.addr, log: () => {}, doneDelayMs: 150 });
    const conn = await server.connection(0);
    const id = conn.sendMessage("slow");
    await conn.untilTerminal(id);
    const times = agent.trace.filter((e) => e.dir === "out" && JSON.stringify(e.msg).includes(id)).map((e) => e.t);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(140);
  });

  it("traces every frame in and out as proto JSON", async () => {
    server = await startFakeServer();
    agent = await startFakeAgent({ addr: server.addr, log: () => {}, doneDelayMs: 0 });
    const conn = await server.connection(0);
    const id = conn.sendMessage("hi");
    await conn.untilTerminal(id);
    const kinds = agent.trace.map((e) => `${e.dir}:${Object.keys(e.msg as object)[0]}`);
    expect(kinds).toEqual(["out:register", "in:welcome", "in:sendMessage", "out:response", "out:response"]);
    expect(agent.trace.every((e) => e.agent_id === "e2e-echo-agent" && typeof e.t === "number")).toBe(true);
    expect(agent.trace[3]!.msg).toEqual({ response: { requestId: id, text: "Echo: **hi**\n\nI received your message and am responding with some *formatted* text." } });
  });
});
