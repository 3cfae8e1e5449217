// ABOUTME: Dispatches `coven-admin <command> [args]` (cli.md §3): usage, me, status, bindings, agents, token, invite,
// ABOUTME: chat, maintenance. Returns the exit code instead of exiting, so tests run it in-process as well as as a child process.
import { paint } from "../coven-gateway/cli-io.js";
import { AGENTS } from "./agents.js";
import { BINDINGS } from "./bindings.js";
import { CHAT } from "./chat.js";
import { findCommand, runCommand, type AdminIo, type Command } from "./command.js";
import { ME, STATUS } from "./identity.js";
import { INVITE } from "./invite.js";
import { MAINTENANCE } from "./maintenance.js";
import { BANNER } from "./output.js";
import { TOKEN } from "./token.js";

export const USAGE = `Usage: coven-admin <command> [args]

Commands:
  me                      Show your identity (principal + roles)
  status                  Show gateway status and your identity
  bindings                List all channel bindings
  bindings list           List all channel bindings
  bindings create         Create a new binding
  bindings delete <id>    Delete a binding by ID
  agents                  List all agent principals
  agents list             List all agent principals
  agents create           Register a new agent
  agents delete <id>      Delete an agent by ID
  token create            Generate a JWT token for a principal
  invite create           Generate an admin web UI invite link
  chat <agent-id> [msg]   Chat with an agent (REPL if no message)
  maintenance on|off|status  Switch or show maintenance mode (on: --message TEXT)

Options:
  --json                  me, status, bindings and agents print one JSON document instead
  -h, --help              after a command or subcommand: its flags, e.g. coven-admin agents create --help

Environment:
  COVEN_GATEWAY_HOST       Gateway hostname (derives gRPC :50051 and HTTP URLs)
  COVEN_GATEWAY_GRPC       Gateway gRPC address (overrides COVEN_GATEWAY_HOST; default: localhost:50051)
  COVEN_GATEWAY_URL        Gateway base URL for invite links (default: http://localhost:8080)
  COVEN_TOKEN              JWT authentication token (default: ~/.config/coven/token)
  COVEN_DB_PATH            Gateway database file (invite create)
`;

/** Every top-level command; groups carry their subcommands and each has its own `--help`. */
export const COMMANDS: readonly Command[] = [ME, STATUS, BINDINGS, AGENTS, TOKEN, INVITE, CHAT, MAINTENANCE];

function printUsage(io: AdminIo): void {
  io.stdout.write(paint(io, io.stdout, ["cyan"], BANNER) + "\n" + USAGE);
}

/** Runs one coven-admin command line; resolves with the exit code. */
export async function main(argv: string[], io: AdminIo): Promise<number> {
  const [word, ...rest] = argv;
  if (word === undefined) {
    printUsage(io);
    return 1;
  }
  if (word === "help" || word === "-h" || word === "--help") {
    // `help <command> [<subcommand>]` is the same as `<command> [<subcommand>] --help`.
    const target = rest[0] === undefined ? undefined : findCommand(COMMANDS, rest[0]);
    if (target !== undefined) return runCommand(target, [...rest.slice(1), "--help"], io);
    printUsage(io);
    return 0;
  }
  const command = findCommand(COMMANDS, word);
  if (command === undefined) {
    io.stderr.write(`Unknown command: ${word}\n`);
    printUsage(io);
    return 1;
  }
  return runCommand(command, rest, io);
}
