// ABOUTME: Runs one command under bubblewrap: read-only root, one writable workspace, no network unless allowed,
// ABOUTME: new PID namespace, CPU/memory rlimits, a wall timeout that kills the whole tree, output capped per stream.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";

export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_TIMEOUT_MS = 300_000;
export const OUTPUT_CAP_BYTES = 1024 * 1024;

export interface SandboxOptions {
  /** The one writable directory (created if missing); commands run inside it. */
  workspace: string;
  /** Network access inside the sandbox (SHELL_PACK_NETWORK=1). Off by default. */
  allowNetwork: boolean;
  /** The bwrap binary. */
  bwrapPath: string;
  /** RLIMIT_CPU in seconds and RLIMIT_AS in KiB for the command. */
  cpuSeconds: number;
  memoryKiB: number;
  outputCapBytes?: number;
}

export interface ShellResult {
  duration_ms: number;
  exit_code: number;
  stderr: string;
  stdout: string;
  truncated: boolean;
}

/** Finds bwrap on PATH (or at SHELL_PACK_BWRAP); undefined when absent. */
export function findBwrap(env: NodeJS.ProcessEnv): string | undefined {
  const candidates = env.SHELL_PACK_BWRAP ? [env.SHELL_PACK_BWRAP] : (env.PATH ?? "/usr/bin:/bin").split(":").map((d) => `${d}/bwrap`);
  return candidates.find((c) => c !== "" && existsSync(c));
}

/**
 * Whether bwrap can create the namespaces we need here (user namespaces may be disabled, e.g. in some containers).
 * Returns undefined when it can, else the reason.
 */
export function sandboxUnavailableReason(bwrapPath: string | undefined): string | undefined {
  if (bwrapPath === undefined) return "bwrap not found (install it: apt-get install -y bubblewrap)";
  const probe = spawnSync(bwrapPath, ["--ro-bind", "/", "/", "--dev", "/dev", "--unshare-pid", "--unshare-net", "--die-with-parent", "true"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  if (probe.status === 0) return undefined;
  return `bwrap cannot create namespaces here: ${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim()}`;
}

/** Prepares the workspace: created if missing, returned as its real path. */
export function prepareWorkspace(path: string): string {
  mkdirSync(path, { recursive: true });
  return realpathSync(path);
}

/** The working directory for `cwd` (relative to the workspace, or absolute inside it). Throws Error when outside. */
export function confinedCwd(workspace: string, cwd: string | undefined): string {
  if (cwd === undefined || cwd === "") return workspace;
  const target = resolve(workspace, cwd);
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    throw new Error(`cwd does not exist: ${cwd}`);
  }
  const rel = relative(workspace, real);
  if (rel.startsWith("..") || isAbsolute(rel)) throw new Error("cwd must be inside the workspace");
  return real;
}

/** The bwrap argument list for one command. */
export function bwrapArgs(options: SandboxOptions, cwd: string, command: string): string[] {
  const args = [
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",
    "--bind", options.workspace, options.workspace,
    "--chdir", cwd,
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
    "--new-session",
    "--setenv", "HOME", options.workspace,
  ];
  if (!options.allowNetwork) args.push("--unshare-net");
  // The limits are set by the shell inside the sandbox, then the command replaces it.
  const limits = `ulimit -t ${options.cpuSeconds} && ulimit -v ${options.memoryKiB} && exec /bin/sh -c "$1"`;
  args.push("--", "/bin/sh", "-c", limits, "sh", command);
  return args;
}

/**
 * Runs `command` in the sandbox. The wall timeout (clamped to 1..300 s) kills bwrap's whole process group, and the
 * PID namespace takes every descendant with it. Exit code is the command's, or 128+signal when killed.
 */
export function runSandboxed(options: SandboxOptions, command: string, cwd: string, timeoutMs: number): Promise<ShellResult> {
  const cap = options.outputCapBytes ?? OUTPUT_CAP_BYTES;
  const wallMs = Math.min(Math.max(1, timeoutMs), MAX_TIMEOUT_MS);
  const started = process.hrtime.bigint();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(options.bwrapPath, bwrapArgs(options, cwd, command), {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
    });
    let truncated = false;
    const collect = () => {
      const chunks: Buffer[] = [];
      let size = 0;
      return {
        add(chunk: Buffer) {
          if (size >= cap) {
            truncated = true;
            return;
          }
          const room = cap - size;
          if (chunk.length > room) truncated = true;
          const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
          chunks.push(kept);
          size += kept.length;
        },
        text: () => Buffer.concat(chunks).toString("utf8"),
      };
    };
    const out = collect();
    const err = collect();
    child.stdout.on("data", out.add);
    child.stderr.on("data", err.add);
    let timedOut = false;
    const kill = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, wallMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const duration = Number((process.hrtime.bigint() - started) / 1_000_000n);
      const exit = code ?? (signal ? 128 + (signalNumbers[signal] ?? 9) : 1);
      const stderr = timedOut ? `${err.text()}${err.text() === "" || err.text().endsWith("\n") ? "" : "\n"}killed: timed out after ${wallMs} ms\n` : err.text();
      resolvePromise({ duration_ms: duration, exit_code: exit, stderr, stdout: out.text(), truncated });
    });
  });
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGXCPU: 24, SIGSEGV: 11 };
