// ABOUTME: Dispatches `coven-gateway <command>`: serve, init, bootstrap, health, agents, guard, help, version (cli.md §2).
// ABOUTME: Returns the process exit code instead of exiting, so tests can run it in-process.
import type { CliIo } from "./cli-io.js";
import { runBootstrap } from "./bootstrap.js";
import { runGuard } from "./guard.js";
import { runInit } from "./init.js";
import { runServe } from "./serve.js";
import { runHealth, runAgents } from "./health.js";
import { gatewayVersion } from "./startup-notices.js";

export const USAGE = `Usage: coven-gateway <command>

Commands:
  serve                  Start the gateway server
  init                   Create a new config file interactively
  bootstrap --name NAME  Create initial owner principal and token
  health                 Check gateway health
  agents                 List connected agents
  guard test             Dry-run the command guard: --tool NAME --input JSON
`;

/** Runs one command line; resolves with the exit code. `io.stdin` (default process.stdin) feeds `init`. */
export async function main(argv: string[], io: CliIo & { stdin?: NodeJS.ReadableStream }): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      io.stdout.write(USAGE);
      return 1;
    case "help":
    case "-h":
    case "--help":
      io.stdout.write(USAGE);
      return 0;
    case "version":
    case "--version":
      io.stdout.write(`coven-gateway ${gatewayVersion()}\n`);
      return 0;
    case "serve":
      return runServe(io);
    case "health":
      return runHealth(io);
    case "agents":
      return runAgents(rest, io);
    case "init":
      return runInit(io, io.stdin ?? process.stdin);
    case "bootstrap":
      return runBootstrap(rest, io);
    case "guard":
      return runGuard(rest, io);
    default:
      io.stderr.write(`Unknown command: ${command}\n`);
      return 1;
  }
}
