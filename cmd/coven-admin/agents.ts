// ABOUTME: `coven-admin agents [list|create|delete]` and aliases (cli.md §3.6): agent principals over AdminService.
// ABOUTME: The list has a human table (with the truncation rule) and `--json`: one document with every agent.
import { toJson } from "@bufbuild/protobuf";
import * as pb from "../../src/gen/coven_pb.js";
import { paint, type CliIo } from "../coven-gateway/cli-io.js";
import { failCall, failUsage, formatCreated, printJson, table, truncate } from "./output.js";
import { JSON_FLAG, type Group, type Parsed } from "./command.js";
import { withGateway } from "./session.js";

const CREATE_USAGE = "usage: agents create --name <name> [--pubkey <key> | --pubkey-fp <fingerprint>]";
const DELETE_USAGE = "usage: agents delete <agent-id>";

async function listAgents({ values }: Parsed, io: CliIo): Promise<number> {
  const json = values.json === true;
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

async function createAgent({ values }: Parsed, io: CliIo): Promise<number> {
  const name = values.name as string | undefined;
  const pubkey = values.pubkey as string | undefined;
  const pubkeyFp = values["pubkey-fp"] as string | undefined;
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

async function deleteAgent({ positionals }: Parsed, io: CliIo): Promise<number> {
  const [id] = positionals;
  if (id === undefined || positionals.length > 1) return failUsage(io, DELETE_USAGE);
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

/** `agents [list|create|delete]`; no subcommand means list. */
export const AGENTS: Group = {
  kind: "group",
  name: "agents",
  summary: "Manage agent principals: the agents allowed to connect when auth is on.",
  defaultSubcommand: "list",
  unknownError: (sub) => `unknown agents subcommand: ${sub} (use list, create, delete)`,
  subcommands: [
    {
      kind: "leaf",
      name: "list",
      aliases: ["ls"],
      synopsis: "agents list [--json]",
      summary: "List all agent principals (ID, name, status, key fingerprint, created).",
      flags: [JSON_FLAG],
      usageError: "usage: agents list [--json]",
      run: listAgents,
    },
    {
      kind: "leaf",
      name: "create",
      aliases: ["add"],
      synopsis: "agents create --name <name> [--pubkey <key> | --pubkey-fp <fingerprint>]",
      summary: "Register a new agent principal (role member) that authenticates with its SSH key.",
      flags: [
        { name: "name", short: "n", type: "string", value: "<name>", help: "Display name (required)" },
        { name: "pubkey", short: "k", type: "string", value: "<key>", help: 'OpenSSH public key, e.g. "ssh-ed25519 AAAA..."' },
        { name: "pubkey-fp", short: "f", aliases: ["fp"], type: "string", value: "<fingerprint>", help: "SHA256 fingerprint of the key, instead of --pubkey" },
      ],
      usageError: CREATE_USAGE,
      run: createAgent,
    },
    {
      kind: "leaf",
      name: "delete",
      aliases: ["rm", "remove"],
      synopsis: "agents delete <agent-id>",
      summary: "Delete an agent principal by ID.",
      positionals: true,
      usageError: DELETE_USAGE,
      run: deleteAgent,
    },
  ],
};
