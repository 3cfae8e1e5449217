// ABOUTME: `coven-admin me` and `coven-admin status` (cli.md §3.3, §3.4), each with `--json`.
// ABOUTME: `status` never fails on an unreachable gateway or a refused token: it reports them and exits 0.
import { toJson } from "@bufbuild/protobuf";
import * as pb from "../../src/gen/coven_pb.js";
import { paint, type CliIo } from "../coven-gateway/cli-io.js";
import { grpcFailure } from "../fake-agent/grpc-status.js";
import { createClients, resolveConnection, waitReachable } from "./connection.js";
import { JSON_FLAG, type Leaf, type Parsed } from "./command.js";
import { failCall, printBanner, printJson } from "./output.js";
import { withGateway } from "./session.js";

function meJson(me: pb.MeResponse): unknown {
  return toJson(pb.MeResponseSchema, me, { useProtoFieldName: true, alwaysEmitImplicit: true });
}

function rolesText(io: CliIo, roles: string[]): string {
  return roles.length === 0 ? "(none)" : paint(io, io.stdout, ["green"], roles.join(", "));
}

/** `me [--json]`: GetMe, printed as the Identity block. */
async function runMe({ values }: Parsed, io: CliIo): Promise<number> {
  const json = values.json === true;
  return withGateway(io, async ({ client }, conn) => {
    let me: pb.MeResponse;
    try {
      me = await client.getMe({});
    } catch (err) {
      return failCall(io, "GetMe", err, conn);
    }
    if (json) {
      printJson(io, meJson(me));
      return 0;
    }
    let out = "\n  Identity\n  --------\n";
    out += `  Principal ID:   ${me.principalId}\n`;
    out += `  Type:           ${me.principalType}\n`;
    out += `  Display Name:   ${me.displayName}\n`;
    out += `  Status:         ${me.status}\n`;
    out += `  Roles:          ${rolesText(io, me.roles)}\n`;
    if (me.memberId) out += `  Member ID:      ${me.memberId}\n`;
    io.stdout.write(out + "\n");
    return 0;
  });
}

/** `status [--json]`: whether the gateway is reachable and who the token says we are; exit 0 either way. */
async function runStatus({ values }: Parsed, io: CliIo): Promise<number> {
  const json = values.json === true;
  const conn = resolveConnection(io.env);
  const report: { gateway: { addr: string; reachable: boolean; error?: string }; identity: unknown; identity_error?: string } = {
    gateway: { addr: conn.addr, reachable: false },
    identity: null,
  };
  if (!json) printBanner(io);
  try {
    await waitReachable(conn);
    report.gateway.reachable = true;
  } catch (err) {
    report.gateway.error = (err as Error).message;
  }
  if (!report.gateway.reachable) {
    if (json) printJson(io, report);
    else {
      io.stdout.write(paint(io, io.stdout, ["yellow"], "  Gateway:  ") + paint(io, io.stdout, ["red"], `UNREACHABLE (${report.gateway.error})`) + "\n\n");
    }
    return 0;
  }
  if (!json) io.stdout.write(paint(io, io.stdout, ["green"], "  Gateway:  ") + `connected to ${conn.addr}\n`);
  if (conn.token === undefined) {
    report.identity_error = "no token - set COVEN_TOKEN";
    if (json) printJson(io, report);
    else io.stdout.write("  Identity: (no token - set COVEN_TOKEN)\n\n");
    return 0;
  }
  const clients = createClients(conn);
  try {
    const me = await clients.client.getMe({});
    report.identity = meJson(me);
    if (json) printJson(io, report);
    else io.stdout.write(`  Identity: ${me.displayName} (${me.principalType})\n  Roles:    ${rolesText(io, me.roles)}\n\n`);
  } catch (err) {
    const { status, detail } = grpcFailure(err);
    report.identity_error = `${status}: ${detail}`;
    if (json) printJson(io, report);
    else io.stdout.write(`  Identity: auth failed (${report.identity_error})\n\n`);
  } finally {
    clients.close();
  }
  return 0;
}

export const ME: Leaf = {
  kind: "leaf",
  name: "me",
  synopsis: "me [--json]",
  summary: "Show your identity (principal + roles) as the gateway sees your token.",
  flags: [JSON_FLAG],
  usageError: "usage: me [--json]",
  run: runMe,
};

export const STATUS: Leaf = {
  kind: "leaf",
  name: "status",
  synopsis: "status [--json]",
  summary: "Show whether the gateway is reachable and who your token says you are. Exits 0 either way.",
  flags: [JSON_FLAG],
  usageError: "usage: status [--json]",
  run: runStatus,
};
