// ABOUTME: The `agent disconnected` log line names the real cause (run `npm run build` first: real fake-agent
// ABOUTME: processes): a SIGKILLed agent is a lost connection, a Ctrl-C'd agent closed its stream, never `code=OK reason=""`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createMemoryLogger } from "../../src/lib/logger.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { startTestGateway } from "../support/gateway-harness.js";

const FAKE_AGENT = fileURLToPath(new URL("../../dist/cmd/fake-agent.js", import.meta.url));

let gw: TestGateway;
const log = createMemoryLogger();

beforeAll(async () => {
  gw = await startTestGateway({ log });
});

afterAll(async () => {
  await gw.stop();
});

async function agentThenSignal(id: string, signal: NodeJS.Signals): Promise<{ code: unknown; reason: unknown }> {
  const child = spawn(process.execPath, [FAKE_AGENT, "-addr", gw.grpcAddr, "-id", id], { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let err = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes(`registered as ${id}`)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`fake-agent exited ${code}: ${err}`)));
  });
  child.kill(signal);
  await exited;
  const find = () => log.entries.find((e) => e.msg === "agent disconnected" && e.attrs.agent_id === id);
  await expect.poll(find, { timeout: 10_000 }).toBeDefined();
  const entry = find()!;
  return { code: entry.attrs.code, reason: entry.attrs.reason };
}

describe("agent disconnected log", () => {
  it("says the connection was lost when the agent process is killed", async () => {
    expect(await agentThenSignal("killed-1", "SIGKILL")).toEqual({ code: "CANCELED", reason: "connection lost or stream cancelled by the agent" });
  });

  it("says the agent closed the stream when it half-closes on Ctrl-C", async () => {
    expect(await agentThenSignal("closed-1", "SIGINT")).toEqual({ code: "OK", reason: "agent closed the stream" });
  });
});
