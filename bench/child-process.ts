// ABOUTME: Spawns the benchmark's node child processes, follows their output lines, and always kills them.
// ABOUTME: Also reads a child's RSS and CPU time from /proc, the only process metrics the benchmark needs.
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";

/** A running child process whose stdout and stderr lines are followed (and always drained). */
export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the first line (stdout or stderr) that matches, or rejects on timeout or early exit. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** The last output lines, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once; resolves once the process is gone. */
  kill(): Promise<void>;
}

const TAIL_LINES = 40;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

/** Kills every child still running (SIGKILL). For error paths; `stop` is the orderly way. */
export function killAllChildren(): void {
  for (const child of live) child.kill("SIGKILL");
}

/**
 * Starts `node [nodeArgs] script [args]` with piped output. Every child is registered so that it is killed when
 * this process exits, whatever the reason.
 */
export function spawnNode(
  name: string,
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[]; fdLimit?: number } = {},
): ChildHandle {
  installExitHook();
  const argv = [...(options.nodeArgs ?? []), script, ...args];
  // With `fdLimit`, the shell raises the soft open-files limit, then execs node (same pid).
  const [command, commandArgs] =
    options.fdLimit === undefined
      ? [process.execPath, argv]
      : ["/bin/sh", ["-c", `ulimit -n ${Math.floor(options.fdLimit)} && exec "$0" "$@"`, process.execPath, ...argv]];
  const child = spawn(command, commandArgs, {
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  live.add(child);
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      exitInfo = `exited with ${signal ?? code}`;
      for (const watch of watchers) watch("");
      resolve();
    });
  });
  const follow = (stream: NodeJS.ReadableStream) => {
    createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      for (const watch of watchers) watch(line);
    });
  };
  follow(child.stdout!);
  follow(child.stderr!);

  return {
    name,
    pid: child.pid,
    tail: () => lines.join("\n"),
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (err: Error | undefined, match?: RegExpExecArray) => {
          watchers.delete(watch);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve(match!);
        };
        const watch = (line: string) => {
          if (exitInfo !== undefined) return done(new Error(`${name} ${exitInfo} before printing ${pattern}:\n${lines.join("\n")}`));
          const match = pattern.exec(line);
          if (match) done(undefined, match);
        };
        const timer = setTimeout(() => done(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms:\n${lines.join("\n")}`)), timeoutMs);
        watchers.add(watch);
        for (const line of lines) {
          const match = pattern.exec(line);
          if (match) return done(undefined, match);
        }
        if (exitInfo !== undefined) watch("");
      });
    },
    async stop(graceMs = 3_000) {
      if (exitInfo !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (exitInfo !== undefined) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** The open-files limits of this process (`Max open files` of /proc/self/limits). */
export function openFilesLimit(): { soft: number; hard: number } {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  const value = (v: string | undefined) => (v === undefined || v === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(v));
  return { soft: value(match?.[1]), hard: value(match?.[2]) };
}

/** How many file descriptors `pid` holds open (entries of /proc/<pid>/fd). */
export function countFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of `pid` in KiB (`VmRSS` of /proc/<pid>/status). */
export function readRssKib(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU time of `pid` in ms (fields 14 and 15 of /proc/<pid>/stat, assuming 100 ticks/s). */
export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; the fields after it start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** CPU counters for telling our own load from everything else on the machine. */
export interface LoadSnapshot {
  /** Busy CPU time of the whole machine (all cores), ms. */
  machineBusyMs: number;
  /** CPU time of this process plus its reaped children, ms. */
  ownMs: number;
  wallMs: number;
}

/** Reads /proc/stat and /proc/self/stat (utime, stime, cutime, cstime). */
export function readLoad(): LoadSnapshot {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: busy is everything but idle and iowait.
  const busyTicks = cpu.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
  const self = readFileSync("/proc/self/stat", "utf8");
  const fields = self.slice(self.lastIndexOf(")") + 2).split(" ").map(Number);
  const ownTicks = fields[11]! + fields[12]! + fields[13]! + fields[14]!;
  return { machineBusyMs: (busyTicks * 1000) / CLOCK_TICKS_PER_SECOND, ownMs: (ownTicks * 1000) / CLOCK_TICKS_PER_SECOND, wallMs: Date.now() };
}

/** Average number of cores kept busy by processes other than this one and its children between two snapshots. */
export function backgroundCores(from: LoadSnapshot, to: LoadSnapshot): number {
  const wall = Math.max(1, to.wallMs - from.wallMs);
  return Math.max(0, (to.machineBusyMs - from.machineBusyMs - (to.ownMs - from.ownMs)) / wall);
}
