// ABOUTME: `coven-gateway guard test --tool NAME --input JSON` (ops.md §3.7): the command guard's dry run offline,
// ABOUTME: with the configuration loaded as `serve` loads it; prints the verdict, exit 3 for a deny.
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { createCommandGuard } from "../../src/ops/command-guard.js";
import { printError, type CliIo } from "./cli-io.js";

export const GUARD_USAGE = "usage: coven-gateway guard test --tool <name> --input <json>";
/** The exit code of a `deny` verdict, so scripts can tell it from `allowed`, warn and require_approval (0). */
export const GUARD_DENY_EXIT = 3;

/** Runs `guard <subcommand> …`; resolves with the exit code (1 for usage, config and input errors). */
export function runGuard(args: readonly string[], io: CliIo): number {
  const [sub, ...rest] = args;
  if (sub !== "test") {
    io.stderr.write(GUARD_USAGE + "\n");
    return 1;
  }
  let tool: string | undefined;
  let input: string | undefined;
  try {
    const { values } = parseArgs({ args: [...rest], options: { tool: { type: "string" }, input: { type: "string" } }, allowPositionals: false });
    tool = values.tool;
    input = values.input;
  } catch {
    io.stderr.write(GUARD_USAGE + "\n");
    return 1;
  }
  if (tool === undefined || tool === "" || input === undefined) {
    io.stderr.write(GUARD_USAGE + "\n");
    return 1;
  }
  let config;
  try {
    config = loadConfig({ env: io.env, log: createMemoryLogger() }).config;
  } catch (err) {
    printError(io, `loading config: ${err instanceof ConfigError ? err.message : String(err)}`);
    return 1;
  }
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch (err) {
    printError(io, `invalid --input: ${(err as Error).message}`);
    return 1;
  }
  // Evaluated with the configured rules even while guard.enabled is false, as the dry-run route is.
  const verdict = createCommandGuard(config.guard).evaluateValue(tool, value);
  if (verdict === undefined) {
    io.stdout.write("allowed\n");
    return 0;
  }
  io.stdout.write(`${verdict.action} by ${verdict.rule}: ${verdict.message}\n`);
  return verdict.action === "deny" ? GUARD_DENY_EXIT : 0;
}
