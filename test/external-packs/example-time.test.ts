// ABOUTME: The real packs/example-time process against a whole gateway (packs-mcp.md §7): registers, serves get_time and
// ABOUTME: echo to an agent, retries an id still taken, exits 2 on a tool collision, 3 unauthenticated, 0 on SIGTERM.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { startAuthGateway } from "../support/identity-fixtures.js";
import { covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../support/proto-client.js";
import { postSse } from "../support/sse-client.js";
import { timeIn } from "../../packs/example-time/src/time-in.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ENTRY = `${ROOT}packs/example-time/dist/index.js`;

beforeAll(() => {
  const built = spawnSync("npm", ["--prefix", `${ROOT}packs/example-time`, "run", "build"], { encoding: "utf8" });
  if (built.status !== 0) throw new Error(`building example-time failed: ${built.stderr}`);
  expect(existsSync(ENTRY)).toBe(true);
});

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface PackProcess {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

function startPack(gw: TestGateway, env: Record<string, string> = {}): PackProcess {
  const child = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH ?? "", HOME: gw.dir, XDG_CONFIG_HOME: `${gw.dir}/config`, COVEN_GATEWAY_GRPC: gw.grpcAddr, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  child.stderr!.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
    for (const fn of listeners) fn();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  return {
    child,
    log: () => output,
    exited,
    waitFor(text, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!output.includes(text)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for "${text}"; pack said: ${output}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

async function agentOn(gw: TestGateway) {
  const control = covenControlClient(gw.grpcAddr);
  cleanups.push(() => control.close());
  const agent = new ThirdPartyAgentStream(control);
  agent.call.on("error", () => {});
  cleanups.push(() => agent.cancel());
  agent.register("caller");
  await agent.next("welcome");
  let n = 0;
  return async (tool: string, input: unknown, timeoutMs = 5_000) => {
    const requestId = `r${++n}`;
    agent.send({ execute_pack_tool: { request_id: requestId, tool_name: tool, input_json: JSON.stringify(input) } });
    const frame = await agent.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === requestId, timeoutMs);
    const r = frame.pack_tool_result as { result: string; output_json?: string; error?: string };
    return r.result === "error" ? { error: r.error } : { output: r.output_json };
  };
}

describe("get_time's output", () => {
  it("formats the instant with the zone's offset", () => {
    const at = new Date("2026-03-14T09:01:11.123Z");
    expect(timeIn("UTC", at)).toEqual({ iso: "2026-03-14T09:01:11.123Z", timezone: "UTC", unix_ms: at.getTime() });
    expect(timeIn("Europe/Berlin", at).iso).toBe("2026-03-14T10:01:11.123+01:00");
    expect(timeIn("America/St_Johns", at).iso).toBe("2026-03-14T06:31:11.123-02:30");
    expect(() => timeIn("Nope/Zone", at)).toThrow("unknown timezone: Nope/Zone");
  });
});

describe("packs/example-time as a process", () => {
  it("registers, serves both tools to an agent, and leaves the registry on SIGTERM with exit 0", async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    const pack = startPack(gw);
    await pack.waitFor("registered example-time (2 tools)");
    const call = await agentOn(gw);
    const now = await call("get_time", {});
    const parsed = JSON.parse(now.output!) as { iso: string; timezone: string; unix_ms: number };
    expect(Object.keys(parsed)).toEqual(["iso", "timezone", "unix_ms"]);
    expect(parsed.timezone).toBe("UTC");
    expect(Math.abs(parsed.unix_ms - Date.now())).toBeLessThan(10_000);
    expect(await call("get_time", { timezone: "Nope/Zone" })).toEqual({ error: "unknown timezone: Nope/Zone" });
    expect(await call("echo", { text: "hi", delay_ms: 50 })).toEqual({ output: '{"text":"hi"}' });
    expect(await call("echo", { text: "" })).toEqual({ error: "text is required" });
    pack.child.kill("SIGTERM");
    expect(await pack.exited).toBe(0);
    await expect.poll(() => call("get_time", {})).toEqual({ error: "tool not found" });
  });

  it("keeps a slow echo (delay_ms) off the agent's stream: a second call and the agent's replies flow meanwhile", async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    const pack = startPack(gw);
    await pack.waitFor("registered example-time (2 tools)");
    const control = covenControlClient(gw.grpcAddr);
    cleanups.push(() => control.close());
    const agent = new ThirdPartyAgentStream(control);
    agent.call.on("error", () => {});
    cleanups.push(() => agent.cancel());
    agent.register("busy", { capabilities: ["chat"] });
    await agent.next("welcome");
    agent.call.on("data", (frame: ServerFrame) => {
      if (frame.payload !== "send_message") return;
      const id = (frame.send_message as { request_id: string }).request_id;
      agent.respond(id, { text: "still here" });
      agent.respond(id, { done: { full_response: "still here" } });
    });
    const resultOf = (id: string, timeoutMs: number) =>
      agent.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === id, timeoutMs);
    const slowSent = Date.now();
    agent.send({ execute_pack_tool: { request_id: "slow", tool_name: "echo", input_json: '{"text":"late","delay_ms":2500}' } });
    agent.send({ execute_pack_tool: { request_id: "fast", tool_name: "echo", input_json: '{"text":"now"}' } });
    // The fast result and a whole turn complete while the slow echo is still sleeping in the pack.
    expect((await resultOf("fast", 2_000)).pack_tool_result).toMatchObject({ result: "output_json", output_json: '{"text":"now"}' });
    const sent = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "busy", sender: "alice", content: "hello" });
    expect(sent.frames.map((f) => f.event)).toEqual(["started", "text", "done"]);
    expect(agent.received.some((f) => (f.pack_tool_result as { request_id?: string } | undefined)?.request_id === "slow")).toBe(false);
    expect((await resultOf("slow", 5_000)).pack_tool_result).toMatchObject({ result: "output_json", output_json: '{"text":"late"}' });
    expect(Date.now() - slowSent).toBeGreaterThanOrEqual(2_500);
  });

  it("times out an echo slower than its 5 s timeout", async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    const pack = startPack(gw);
    await pack.waitFor("registered");
    const call = await agentOn(gw);
    expect(await call("echo", { text: "slow", delay_ms: 6000 }, 10_000)).toEqual({ error: "context deadline exceeded" });
  });

  it("exits 2 on a tool collision, retries an id still registered, and exits 3 when unauthenticated", async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    const first = startPack(gw);
    await first.waitFor("registered");
    const collider = startPack(gw, { COVEN_PACK_ID: "example-time-2" });
    expect(await collider.exited).toBe(2);
    expect(collider.log()).toContain("tool collision: tool name collision: tool 'get_time' already registered by pack 'example-time'");

    const second = startPack(gw);
    await second.waitFor("pack example-time already registered");
    expect(second.child.exitCode).toBeNull();
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    await second.waitFor("registered example-time (2 tools)");

    const authed = await startAuthGateway();
    cleanups.push(() => authed.stop());
    const refused = startPack(authed);
    expect(await refused.exited).toBe(3);
  });
});
