// ABOUTME: Builds the real `fake-agent` executable into a private, git-ignored folder and runs it as a child process,
// ABOUTME: so e2e tests drive the gateway with the same binary users run, without racing other tests' `dist/` builds.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { within, type Cleanups } from "./conversation-e2e.js";

const ROOT = resolve(import.meta.dirname, "../../..");

export interface FakeAgentBuild {
  /** The compiled `cmd/fake-agent.js`. */
  entry: string;
  remove(): void;
}

/**
 * Compiles `cmd/fake-agent.ts` and what it imports with the project's tsconfig.build.json into `.tmp/` (ignored by
 * git; node_modules resolve from the repository root). Throws when tsc fails.
 */
export function buildFakeAgent(): FakeAgentBuild {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".tmp", "e2e-fake-agent-"));
  const config = {
    extends: "../../tsconfig.build.json",
    compilerOptions: { outDir: "out", sourceMap: false },
    files: ["../../cmd/fake-agent.ts"],
    include: [],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
  try {
    execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")], { cwd: ROOT, stdio: "pipe" });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const output = (err as { stdout?: Buffer }).stdout?.toString() ?? "";
    throw new Error(`building fake-agent failed:\n${output}`, { cause: err });
  }
  return { entry: join(dir, "out/cmd/fake-agent.js"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface FakeAgentProcess {
  child: ChildProcessWithoutNullStreams;
  /** The instance id printed on registration. */
  instanceId: string;
  stderr(): string;
}

/**
 * Spawns `node <entry> <args>` and waits until it prints `registered as <id> (instance: <code>)`. The child is
 * stopped by `cleanups` (SIGTERM, then SIGKILL if it lingers). Throws when it exits or stays silent first.
 */
export async function spawnFakeAgent(cleanups: Cleanups, entry: string, agentId: string, args: string[]): Promise<FakeAgentProcess> {
  const child = spawn(process.execPath, [entry, "-id", agentId, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "" } });
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  cleanups.add(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    try {
      await within(exited, 5_000, "fake-agent to exit");
    } catch {
      child.kill("SIGKILL");
      await exited;
    }
  });
  let err = "";
  child.stdout.resume();
  const registered = new Promise<string>((resolveId, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const match = /registered as (\S+) \(instance: (\S+)\)/.exec(err);
      if (match && match[1] === agentId) resolveId(match[2]!);
    });
    child.once("exit", (code) => reject(new Error(`fake-agent exited (${code}) before registering:\n${err}`)));
  });
  const instanceId = await within(registered, 10_000, "fake-agent to register");
  return { child, instanceId, stderr: () => err };
}
