// ABOUTME: The README's first run on a fresh clone with an empty npm cache: install, a first `npm start` interrupted
// ABOUTME: by SIGINT, then the demo (npm start, fake-agent, a send) works, nothing is rebuilt and npx's cache stays empty.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

/** Long steps run asynchronously: a synchronous minute would starve vitest's worker RPC. */
const run = promisify(execFile);

const ROOT = resolve(import.meta.dirname, "../..");
/**
 * By default the install step is `git clone` plus a hard-linked copy of this checkout's third-party node_modules
 * (our own bin links removed) and the lifecycle step `npm ci` runs after placing them (`npm run prepare`): the
 * registry download and the better-sqlite3 compile take minutes and are npm's, not ours. COVEN_TEST_NPM_CI=1 runs
 * the real `npm ci` against the registry with the empty cache instead (slow: several minutes on two cores).
 */
const REAL_NPM_CI = process.env.COVEN_TEST_NPM_CI === "1";
const OWN_BINS = ["coven-gateway", "coven-admin", "fake-agent"];

let work: string;
let clone: string;
let cache: string;
let env: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

/** The environment of a newcomer's shell: a fresh HOME and XDG dirs, an empty npm cache, no npm_* of this run. */
function newcomerEnv(home: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) && !key.startsWith("COVEN_")) out[key] = value;
  return {
    ...out,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    npm_config_cache: cache,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
}

/** Starts a command in its own process group, as a terminal runs a foreground job (Ctrl-C reaches the group). */
function start(command: string, args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(command, args, { cwd: clone, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.on("exit", (code) => resolveExit(code)));
  return { child, out: () => out, exited };
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!isRunning(child)) return;
  try {
    process.kill(-(child.pid as number), signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

const ctrlC = (child: ChildProcess) => signalGroup(child, "SIGINT");

/** Resolves once no process of the child's group is left (npm can exit before the gateway it started has). */
async function groupGone(child: ChildProcess): Promise<void> {
  await waitFor("the process group to end", () => {
    try {
      process.kill(-(child.pid as number), 0);
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") return true;
      throw err;
    }
  });
}

async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "coven-fresh-"));
  clone = join(work, "coven-gateway");
  cache = join(work, "npm-cache");
  const home = join(work, "home");
  mkdirSync(cache);
  mkdirSync(home);
  env = newcomerEnv(home);
  await run("git", ["clone", "--quiet", "--no-hardlinks", ROOT, clone]);
  if (REAL_NPM_CI) {
    await run("npm", ["ci"], { cwd: clone, env });
  } else {
    await run("cp", ["-al", join(ROOT, "node_modules"), join(clone, "node_modules")]);
    for (const bin of OWN_BINS) rmSync(join(clone, "node_modules", ".bin", bin), { force: true });
    await run("npm", ["run", "prepare"], { cwd: clone, env });
  }
  // The gateway's default config location in the fresh HOME, on port 0 so the test never needs 8080/50051 free.
  mkdirSync(join(home, ".config", "coven"), { recursive: true });
  writeFileSync(
    join(home, ".config", "coven", "gateway.yaml"),
    'server:\n  grpc_addr: "127.0.0.1:0"\n  http_addr: "127.0.0.1:0"\n',
  );
}, REAL_NPM_CI ? 900_000 : 300_000);

afterAll(() => {
  for (const child of children) signalGroup(child, "SIGKILL");
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the README on a fresh clone", () => {
  it("documents only commands that run the checkout's own bins, never npx", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("node_modules/.bin/fake-agent -id demo-agent -chunks 5 -chunk-delay-ms 100");
    const shellLines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? "").split("\n"));
    expect(shellLines.filter((line) => /^\s*(npx|npm exec(?! --no))\b/.test(line))).toEqual([]);
  });

  it("installs the bins, survives a first run interrupted with SIGINT, then runs the demo without touching npm's cache", async () => {
    for (const bin of OWN_BINS) expect(existsSync(join(clone, "node_modules", ".bin", bin)), bin).toBe(true);
    const built = join(clone, "dist", "cmd", "coven-gateway.js");
    const builtAt = statSync(built).mtimeMs;

    // Ctrl-C while the first `npm start` is still starting (before the gateway installed its signal handlers).
    const first = start("npm", ["start"]);
    await waitFor("the banner", () => (first.out().includes("Config:") ? true : undefined));
    ctrlC(first.child);
    await first.exited;
    // The next start must not race the first gateway's database lock.
    await groupGone(first.child);

    const gateway = start("npm", ["start"]);
    const httpAddr = await waitFor("HTTP listening", () => {
      if (!isRunning(gateway.child)) throw new Error(`the second npm start exited early:\n${gateway.out()}`);
      return /HTTP server listening addr=(\S+)/.exec(gateway.out())?.[1];
    });
    const grpcAddr = await waitFor("gRPC listening", () => /gRPC server listening addr=(\S+)/.exec(gateway.out())?.[1]);
    const agent = start("node_modules/.bin/fake-agent", ["-addr", grpcAddr, "-id", "demo-agent", "-chunks", "5", "-chunk-delay-ms", "100"]);
    await waitFor("the agent to connect", async () => {
      const body = await (await fetch(`http://${httpAddr}/api/agents`)).text();
      return body.includes("demo-agent") ? true : undefined;
    });
    const res = await fetch(`http://${httpAddr}/api/send`, {
      method: "POST",
      body: JSON.stringify({ agent_id: "demo-agent", sender: "me", content: "hello" }),
    });
    const stream = await res.text();
    expect(stream).toMatch(/^event: started\n/);
    expect(stream).toContain('event: done\ndata: {"full_response":"Echo: **hello**');
    const history = await (await fetch(`http://${httpAddr}/api/agents/demo-agent/history`)).text();
    expect(history).toContain("hello");

    ctrlC(agent.child);
    ctrlC(gateway.child);
    await Promise.all([agent.exited, gateway.exited]);
    expect(gateway.out()).toContain("shutdown complete");

    // Nothing rebuilt behind the commands, and npm's cache holds no npx install (only npm's own debug logs).
    expect(statSync(built).mtimeMs).toBe(builtAt);
    expect(readdirSync(cache).filter((entry) => entry !== "_logs")).toEqual(REAL_NPM_CI ? ["_cacache"] : []);
  }, 120_000);
});
