// ABOUTME: `coven-admin bindings [list|create|delete]` and aliases (cli.md §3.5) over AdminService.
// ABOUTME: The list has a human table (with the truncation rule) and `--json`: one document with every binding.
import { parseArgs } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import * as pb from "../../src/gen/coven_pb.js";
import { paint, type CliIo } from "../coven-gateway/cli-io.js";
import { failCall, failUsage, formatCreated, printJson, table, truncate } from "./output.js";
import { withGateway } from "./session.js";

const CREATE_USAGE = "usage: bindings create --frontend <name> --channel <id> --agent <id>";
const DELETE_USAGE = "usage: bindings delete <binding-id>";

/** Dispatches the bindings subcommands; no subcommand means list. */
export async function runBindings(argv: string[], io: CliIo): Promise<number> {
  const hasSub = argv[0] !== undefined && !argv[0].startsWith("-");
  const sub = hasSub ? argv[0]! : "list";
  const rest = hasSub ? argv.slice(1) : argv;
  switch (sub) {
    case "list":
    case "ls":
      return listBindings(rest, io);
    case "create":
    case "add":
      return createBinding(rest, io);
    case "delete":
    case "rm":
    case "remove":
      return deleteBinding(rest, io);
    default:
      return failUsage(io, `unknown bindings subcommand: ${sub} (use list, create, delete)`);
  }
}

async function listBindings(argv: string[], io: CliIo): Promise<number> {
  let json: boolean;
  try {
    json = parseArgs({ args: argv, options: { json: { type: "boolean" } } }).values.json === true;
  } catch (err) {
    return failUsage(io, `${(err as Error).message}\nusage: bindings list [--json]`);
  }
  return withGateway(io, async ({ admin }, conn) => {
    let res: pb.ListBindingsResponse;
    try {
      res = await admin.listBindings({});
    } catch (err) {
      return failCall(io, "ListBindings", err, conn);
    }
    if (json) {
      printJson(io, res.bindings.map((b) => toJson(pb.BindingSchema, b, { useProtoFieldName: true, alwaysEmitImplicit: true })));
      return 0;
    }
    let out = "\n  Channel Bindings\n  ----------------\n";
    if (res.bindings.length === 0) out += "  (no bindings)\n";
    else {
      out += table([
        ["ID", "FRONTEND", "CHANNEL", "AGENT", "CREATED"],
        ["--", "--------", "-------", "-----", "-------"],
        ...res.bindings.map((b) => [truncate(b.id, 12), b.frontend, truncate(b.channelId, 24), truncate(b.agentId, 20), formatCreated(b.createdAt)]),
      ]);
    }
    io.stdout.write(out + "\n");
    return 0;
  });
}

async function createBinding(argv: string[], io: CliIo): Promise<number> {
  let values: { frontend?: string; channel?: string; agent?: string };
  try {
    values = parseArgs({
      args: argv,
      options: { frontend: { type: "string", short: "f" }, channel: { type: "string", short: "c" }, agent: { type: "string", short: "a" } },
    }).values;
  } catch {
    return failUsage(io, CREATE_USAGE);
  }
  const { frontend, channel, agent } = values;
  if (!frontend || !channel || !agent) return failUsage(io, CREATE_USAGE);
  return withGateway(io, async ({ admin }, conn) => {
    let b: pb.Binding;
    try {
      b = await admin.createBinding({ frontend, channelId: channel, agentId: agent });
    } catch (err) {
      return failCall(io, "CreateBinding", err, conn);
    }
    io.stdout.write(paint(io, io.stdout, ["green"], `✓ Created binding: ${b.id}`) + "\n");
    io.stdout.write(`  Frontend:  ${b.frontend}\n  Channel:   ${b.channelId}\n  Agent:     ${b.agentId}\n`);
    return 0;
  });
}

async function deleteBinding(argv: string[], io: CliIo): Promise<number> {
  const id = argv[0];
  if (id === undefined || id.startsWith("-") || argv.length > 1) return failUsage(io, DELETE_USAGE);
  return withGateway(io, async ({ admin }, conn) => {
    try {
      await admin.deleteBinding({ id });
    } catch (err) {
      return failCall(io, "DeleteBinding", err, conn);
    }
    io.stdout.write(paint(io, io.stdout, ["green"], `✓ Deleted binding: ${id}`) + "\n");
    return 0;
  });
}
