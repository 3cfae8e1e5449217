// ABOUTME: `coven-admin chat` as a child process against a real gateway and the real fake-agent process:
// ABOUTME: one-shot ends on `done` within seconds, a scripted error exits 1, the REPL runs two turns over one stream.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestGateway } from "../support/gateway-harness.js";
import { startTestGateway } from "../support/gateway-harness.js";

const ADMIN = fileURLToPath(new URL("../../dist/cmd/coven-admin.js", import.meta.url));
const FAKE_AGENT = fileURLToPath(new URL("../../dist/cmd/fake-agent.js", import.meta.url));

let gw: TestGateway;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "coven-chat-"));
  gw = await startTestGateway();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
});

afterAll(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startAgent(id: string, args: string[] = []): Promise<void> {
  const child = spawn(process.execPath, [FAKE_AGENT, "-addr", gw.grpcAddr, "-id", id, ...args], { env: { PATH: process.env.PATH } });
  children.push(child);
  child.stdout!.resume();
  let err = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes(`registered as ${id}`)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`fake-agent exited ${code}: ${err}`)));
  });
}

function chat(args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [ADMIN, "chat", ...args], {
    env: { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), COVEN_GATEWAY_GRPC: gw.grpcAddr },
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  if (stdin !== undefined) child.stdin!.end(stdin);
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, out, err, ms: Date.now() - started })));
}

describe("coven-admin chat", () => {
  it("one-shot prints the echo and exits 0 on `done`, within seconds", async () => {
    await startAgent("echo-1");
    const r = await chat(["echo-1", "hello", "there"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Echo: \*\*hello there\*\*\n[^]*text\.\n$/);
    expect(r.ms).toBeLessThan(10_000);
  });

  it("a scripted agent error exits 1 with `Error: agent error: <message>`", async () => {
    const script = join(dir, "error.json");
    writeFileSync(script, JSON.stringify({ rules: [{ match: "boom", steps: [{ text: "partial " }, { error: "it broke" }] }] }));
    await startAgent("err-1", ["-script", script]);
    const r = await chat(["err-1", "boom"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("partial ");
    expect(r.err).toBe("Error: agent error: it broke\n");
  });

  it("the REPL runs two turns over one stream and exits 0 on end of input", async () => {
    await startAgent("echo-2");
    const r = await chat(["echo-2"], "first\n\nsecond\n");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.startsWith("Chat with agent echo-2 (Ctrl+D to exit)\n\n> Echo: **first**\n")).toBe(true);
    // The empty line is skipped with a fresh prompt; each turn ends on `done` (newline) plus the blank line.
    expect(r.out).toMatch(/text\.\n\n> > Echo: \*\*second\*\*\n[^]*text\.\n\n> \n$/);
  });

  it("--timeout ends a turn the agent never finishes", async () => {
    const script = join(dir, "slow.json");
    writeFileSync(script, JSON.stringify({ rules: [{ match: "slow", steps: [{ text: "thinking...", delay_ms: 10 }, { text: "late", delay_ms: 30_000 }] }] }));
    await startAgent("slow-1", ["-script", script]);
    const r = await chat(["--timeout", "1", "slow-1", "slow"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("Error: timed out waiting for agent response\n");
  });

  it("an unknown agent gives one line with a hint and exit 1", async () => {
    const r = await chat(["nobody-here", "hi"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Error: SendMessage: [A-Z_]+: .+\nhint: /);
  });

  it("without an agent id prints the usage error", async () => {
    const r = await chat([]);
    expect(r).toMatchObject({ code: 1, out: "", err: "Error: usage: chat <agent-id> [message]\n" });
  });
});
