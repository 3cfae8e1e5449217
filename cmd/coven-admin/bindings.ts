// ABOUTME: `coven-admin bindings [list|create|delete]` and aliases (cli.md §3.5) over AdminService.
// ABOUTME: The list has a human table (with the truncation rule) and `--json`: one document with every binding.
import { toJson } from "@bufbuild/protobuf";
import * as pb from "../../src/gen/coven_pb.js";
import { paint, type CliIo } from "../coven-gateway/cli-io.js";
import { failCall, failUsage, formatCreated, printJson, table, truncate } from "./output.js";
import { JSON_FLAG, type Group, type Parsed } from "./command.js";
import { withGateway } from "./session.js";

const CREATE_USAGE = "usage: bindings create --frontend <name> --channel <id> --agent <id>";
const DELETE_USAGE = "usage: bindings delete <binding-id>";

async function listBindings({ values }: Parsed, io: CliIo): Promise<number> {
  const json = values.json === true;
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

async function createBinding({ values }: Parsed, io: CliIo): Promise<number> {
  const { frontend, channel, agent } = values as { frontend?: string; channel?: string; agent?: string };
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

async function deleteBinding({ positionals }: Parsed, io: CliIo): Promise<number> {
  const [id] = positionals;
  if (id === undefined || positionals.length > 1) return failUsage(io, DELETE_USAGE);
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

/** `bindings [list|create|delete]`; no subcommand means list. */
export const BINDINGS: Group = {
  kind: "group",
  name: "bindings",
  summary: "Manage channel bindings: which agent answers a frontend's channel.",
  defaultSubcommand: "list",
  unknownError: (sub) => `unknown bindings subcommand: ${sub} (use list, create, delete)`,
  subcommands: [
    {
      kind: "leaf",
      name: "list",
      aliases: ["ls"],
      synopsis: "bindings list [--json]",
      summary: "List all channel bindings (ID, frontend, channel, agent, created).",
      flags: [JSON_FLAG],
      usageError: "usage: bindings list [--json]",
      run: listBindings,
    },
    {
      kind: "leaf",
      name: "create",
      aliases: ["add"],
      synopsis: "bindings create --frontend <name> --channel <id> --agent <id>",
      summary: "Bind a frontend's channel to an agent.",
      flags: [
        { name: "frontend", short: "f", type: "string", value: "<name>", help: "Frontend name, e.g. slack (required)" },
        { name: "channel", short: "c", type: "string", value: "<id>", help: "Channel id within the frontend (required)" },
        { name: "agent", short: "a", type: "string", value: "<id>", help: "Agent id that answers the channel (required)" },
      ],
      usageError: CREATE_USAGE,
      run: createBinding,
    },
    {
      kind: "leaf",
      name: "delete",
      aliases: ["rm", "remove"],
      synopsis: "bindings delete <binding-id>",
      summary: "Delete a binding by ID.",
      positionals: true,
      usageError: DELETE_USAGE,
      run: deleteBinding,
    },
  ],
};
