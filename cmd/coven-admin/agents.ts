// ABOUTME: `coven-admin agents [list|create|delete]` and aliases (cli.md §3.6): agent principals over AdminService.
// ABOUTME: The list has a human table (with the truncation rule) and `--json`: one document with every agent.
import { parseArgs } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import * as pb from "../../src/gen/coven_pb.js";
import { paint, type CliIo } from "../coven-gateway/cli-io.js";
import { failCall, failUsage, formatCreated, printJson, table, truncate } from "./output.js";
import { withGateway } from "./session.js";

const CREATE_USAGE = "usage: agents create --name <name> [--pubkey <key> | --pubkey-fp <fingerprint>]";
const DELETE_USAGE = "usage: agents delete <agent-id>";

/** Dispatches the agents subcommands; no subcommand means list. */
export async function runAgentsCommand(argv: string[], io: CliIo): Promise<number> {
  const hasSub = argv[0] !== undefined && !argv[0].startsWith("-");
  const sub = hasSub ? argv[0]! : "list";
  const rest = hasSub ? argv.slice(1) : argv;
  switch (sub) {
    case "list":
    case "ls":
      return listAgents(rest, io);
    case "create":
    case "add":
      return createAgent(rest, io);
    case "delete":
    case "rm":
    case "remove":
      return deleteAgent(rest, io);
    default:
      return failUsage(io, `unknown agents subcommand: ${sub} (use list, create, delete)`);
  }
}

async function listAgents(argv: string[], io: CliIo): Promise<number> {
  let json: boolean;
  try {
    json = parseArgs({ args: argv, options: { json: { type: "boolean" } } }).values.json === true;
  } catch (err) {
    return failUsage(io, `${(err as Error).message}\nusage: agents list [--json]`);
  }
  return withGateway(io, async ({ admin }, conn) => {
    let res: pb.ListPrincipalsResponse;
    try {
      res = await admin.listPrincipals({ type: "agent" });
    } catch (err) {
      return failCall(io, "ListPrincipals", err, conn);
    }
    if (json) {
      printJson(io, res.principals.map((p) => toJson(pb.PrincipalSchema, p, { useProtoFieldName: true, alwaysEmitImplicit: true })));
      return 0;
    }
    let out = "\n  Agent Principals\n  ----------------\n";
    if (res.principals.length === 0) out += "  (no agents registered)\n";
    else {
      out += table([
        ["ID", "NAME", "STATUS", "FINGERPRINT", "CREATED"],
        ["--", "----", "------", "-----------", "-------"],
        ...res.principals.map((p) => [
          truncate(p.id, 20),
          truncate(p.displayName, 24),
          p.status,
          truncate(p.pubkeyFp ?? "", 20),
          formatCreated(p.createdAt),
        ]),
      ]);
    }
    io.stdout.write(out + "\n");
    return 0;
  });
}

async function createAgent(argv: string[], io: CliIo): Promise<number> {
  let values: { name?: string; pubkey?: string; "pubkey-fp"?: string; fp?: string; f?: string };
  try {
    values = parseArgs({
      args: argv,
      options: {
        name: { type: "string", short: "n" },
        pubkey: { type: "string", short: "k" },
        "pubkey-fp": { type: "string", short: "f" },
        fp: { type: "string" },
      },
    }).values;
  } catch {
    return failUsage(io, CREATE_USAGE);
  }
  const name = values.name;
  const pubkey = values.pubkey;
  const pubkeyFp = values["pubkey-fp"] ?? values.fp;
  if (!name) return failUsage(io, CREATE_USAGE);
  if (!pubkey && !pubkeyFp) return failUsage(io, "agent requires either --pubkey <key> or --pubkey-fp <fingerprint>");
  return withGateway(io, async ({ admin }, conn) => {
    let p: pb.Principal;
    try {
      p = await admin.createPrincipal({ type: "agent", displayName: name, pubkey, pubkeyFp, roles: ["member"] });
    } catch (err) {
      return failCall(io, "CreatePrincipal", err, conn);
    }
    io.stdout.write(paint(io, io.stdout, ["green"], `✓ Created agent: ${p.id}`) + "\n");
    let out = `  Name:        ${p.displayName}\n`;
    if (p.pubkeyFp) out += `  Fingerprint: ${p.pubkeyFp}\n`;
    out += `  Status:      ${p.status}\n`;
    io.stdout.write(out);
    return 0;
  });
}

async function deleteAgent(argv: string[], io: CliIo): Promise<number> {
  const id = argv[0];
  if (id === undefined || id.startsWith("-") || argv.length > 1) return failUsage(io, DELETE_USAGE);
  return withGateway(io, async ({ admin }, conn) => {
    try {
      await admin.deletePrincipal({ id });
    } catch (err) {
      return failCall(io, "DeletePrincipal", err, conn);
    }
    io.stdout.write(paint(io, io.stdout, ["green"], `✓ Deleted agent: ${id}`) + "\n");
    return 0;
  });
}
