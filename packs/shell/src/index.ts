// ABOUTME: The jailed shell pack's process: reads SHELL_PACK_* settings, checks bwrap works here, then runs the pack.
// ABOUTME: Refuses to start without bwrap or SHELL_PACK_WORKSPACE, saying how to fix it.
import { runPackMain } from "../../sdk/index.js";
import { findBwrap, prepareWorkspace, sandboxUnavailableReason, type SandboxOptions } from "./shell-exec.js";
import { shellPack } from "./shell-pack.js";

/** Reads SHELL_PACK_* settings; exits 1 with a clear message when the sandbox cannot work here. */
function main(): void {
  const env = process.env;
  const bwrapPath = findBwrap(env);
  const reason = sandboxUnavailableReason(bwrapPath);
  if (reason !== undefined || bwrapPath === undefined) {
    process.stderr.write(`shell pack refuses to start: ${reason}\n`);
    process.exit(1);
  }
  const workspaceEnv = env.SHELL_PACK_WORKSPACE;
  if (workspaceEnv === undefined || workspaceEnv === "") {
    process.stderr.write("shell pack refuses to start: SHELL_PACK_WORKSPACE is required (the one writable directory)\n");
    process.exit(1);
  }
  const sandbox: SandboxOptions = {
    workspace: prepareWorkspace(workspaceEnv),
    allowNetwork: env.SHELL_PACK_NETWORK === "1",
    bwrapPath,
    cpuSeconds: positive(env.SHELL_PACK_CPU_SECONDS, 60),
    memoryKiB: positive(env.SHELL_PACK_MEMORY_MB, 1024) * 1024,
  };
  runPackMain(shellPack(sandbox));
}

function positive(value: string | undefined, fallback: number): number {
  const n = value === undefined ? Number.NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

main();
