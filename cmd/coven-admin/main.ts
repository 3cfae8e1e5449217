// ABOUTME: Dispatches `coven-admin <command> [args]` (cli.md §3): usage, me, status, bindings, agents, token.
// ABOUTME: Returns the exit code instead of exiting, so tests run it in-process as well as as a child process.
import { paint, type CliIo } from "../coven-gateway/cli-io.js";
import { runAgentsCommand } from "./agents.js";
import { runBindings } from "./bindings.js";
import { runMe, runStatus } from "./identity.js";
import { runInvite } from "./invite.js";
import { BANNER } from "./output.js";
import { runToken } from "./token.js";

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

Options:
  --json                  me, status, bindings and agents print one JSON document instead

Environment:
  COVEN_GATEWAY_HOST       Gateway hostname (derives gRPC :50051 and HTTP URLs)
  COVEN_GATEWAY_GRPC       Gateway gRPC address (overrides COVEN_GATEWAY_HOST; default: localhost:50051)
  COVEN_GATEWAY_URL        Gateway base URL for invite links (default: http://localhost:8080)
  COVEN_TOKEN              JWT authentication token (default: ~/.config/coven/token)
  COVEN_DB_PATH            Gateway database file (invite create)
`;

function printUsage(io: CliIo): void {
  io.stdout.write(paint(io, io.stdout, ["cyan"], BANNER) + "\n" + USAGE);
}

/** Runs one coven-admin command line; resolves with the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      printUsage(io);
      return 1;
    case "help":
    case "-h":
    case "--help":
      printUsage(io);
      return 0;
    case "me":
      return runMe(rest, io);
    case "status":
      return runStatus(rest, io);
    case "bindings":
      return runBindings(rest, io);
    case "agents":
      return runAgentsCommand(rest, io);
    case "token":
      return runToken(rest, io);
    case "invite":
      return runInvite(rest, io);
    case "chat":
      // Listed in the spec's usage; the commands themselves are still open in issue 9.
      io.stderr.write(`Error: ${command} is not available in this build yet\n`);
      return 1;
    default:
      io.stderr.write(`Unknown command: ${command}\n`);
      printUsage(io);
      return 1;
  }
}
