// ABOUTME: Crash recovery through the real executable: SIGKILL a coven-gateway child mid-turn, restart it on the
// ABOUTME: same database, and read the interrupted turn's `gateway restarted` row from history.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BUILD_DIST_TIMEOUT_MS, buildDist } from "../support/build-dist.js";
import { covenControlClient, ThirdPartyAgentStream } from "../support/proto-client.js";

const ROOT = resolve(import.meta.dirname, "../..");
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function waitFor<T>(fn: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Running {
  child: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
  grpcAddr: string;
  httpAddr: string;
}

async function serve(dir: string, configPath: string): Promise<Running> {
  const child = spawn(process.execPath, [join(ROOT, "dist/cmd/coven-gateway.js"), "serve"], {
    env: { PATH: process.env.PATH, HOME: dir, COVEN_CONFIG: configPath },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((done) => child.on("exit", (code, signal) => done(signal ?? code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  const grpcAddr = await waitFor(() => /gRPC server listening addr=(\S+)/.exec(out)?.[1]);
  const httpAddr = await waitFor(() => /HTTP server listening addr=(\S+)/.exec(out)?.[1]);
  return { child, exited, grpcAddr, httpAddr };
}

interface HistoryEvent {
  direction: string;
  author: string;
  type: string;
  thread_id?: string;
  text?: string;
}

describe("coven-gateway crash recovery", () => {
  beforeAll(buildDist, BUILD_DIST_TIMEOUT_MS);

  it("closes a turn that was in flight at SIGKILL with one `gateway restarted` error after restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coven-crash-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const configPath = join(dir, "gateway.yaml");
    writeFileSync(
      configPath,
      `server:\n  grpc_addr: "127.0.0.1:0"\n  http_addr: "127.0.0.1:0"\ndatabase:\n  path: "${join(dir, "gw.db")}"\n`,
    );

    const first = await serve(dir, configPath);
    const client = covenControlClient(first.grpcAddr);
    cleanups.push(() => client.close());
    const agent = new ThirdPartyAgentStream(client as never);
    agent.register("crash-agent");
    await agent.next("welcome");
    // The agent never answers, so the turn stays in flight until the process dies.
    const sse = new AbortController();
    cleanups.push(() => sse.abort());
    const response = await fetch(`http://${first.httpAddr}/api/agents/crash-agent/send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "are you there?" }),
      signal: sse.signal,
    });
    expect(response.status).toBe(200);
    await agent.next("send_message");
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    sse.abort();

    const second = await serve(dir, configPath);
    const history = (await (await fetch(`http://${second.httpAddr}/api/agents/crash-agent/history`)).json()) as {
      events: HistoryEvent[];
    };
    expect(history.events.map((e) => [e.direction, e.author, e.type, e.text])).toEqual([
      ["inbound_to_agent", "coven-leader", "message", "are you there?"],
      ["outbound_from_agent", "system", "error", "gateway restarted"],
    ]);
    expect(history.events[1]?.thread_id).toBe(history.events[0]?.thread_id);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 60_000);
});
