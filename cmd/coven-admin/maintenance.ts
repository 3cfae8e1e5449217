// ABOUTME: `coven-admin maintenance on [--message TEXT] | off | status` (ops.md §5): the maintenance switch over the
// ABOUTME: gateway's own GatewayService Get/SetMaintenance RPCs, printed as one line each.
import type * as v1 from "../../src/gen/coven/gateway/v1/gateway_pb.js";
import { paint, type CliIo } from "../coven-gateway/cli-io.js";
import type { Group, Parsed } from "./command.js";
import { failCall, failUsage } from "./output.js";
import { withGateway } from "./session.js";

const ON_USAGE = "usage: maintenance on [--message <text>]";

function setMaintenance(enabled: boolean) {
  return async ({ values, positionals }: Parsed, io: CliIo): Promise<number> => {
    if (positionals.length > 0) return failUsage(io, enabled ? ON_USAGE : "usage: maintenance off");
    const message = values.message as string | undefined;
    return withGateway(io, async ({ gateway }, conn) => {
      let state: v1.MaintenanceState;
      try {
        state = await gateway.setMaintenance(message === undefined ? { enabled } : { enabled, message });
      } catch (err) {
        return failCall(io, "SetMaintenance", err, conn);
      }
      const line = state.enabled ? `✓ Maintenance on: ${state.message}` : "✓ Maintenance off";
      io.stdout.write(paint(io, io.stdout, ["green"], line) + "\n");
      return 0;
    });
  };
}

async function status({ positionals }: Parsed, io: CliIo): Promise<number> {
  if (positionals.length > 0) return failUsage(io, "usage: maintenance status");
  return withGateway(io, async ({ gateway }, conn) => {
    let state: v1.MaintenanceState;
    try {
      state = await gateway.getMaintenance({});
    } catch (err) {
      return failCall(io, "GetMaintenance", err, conn);
    }
    io.stdout.write(state.enabled ? `  Maintenance: on since ${state.since ?? ""} (${state.message})\n` : "  Maintenance: off\n");
    return 0;
  });
}

/** `maintenance on|off|status`; a subcommand is required. */
export const MAINTENANCE: Group = {
  kind: "group",
  name: "maintenance",
  summary: "Switch maintenance mode: new sends are refused on every ingress while it is on; turns in flight finish.",
  unknownError: (sub) =>
    sub === undefined ? "usage: coven-admin maintenance on [--message TEXT] | off | status" : `unknown maintenance subcommand: ${sub} (use on, off, status)`,
  subcommands: [
    {
      kind: "leaf",
      name: "on",
      synopsis: "maintenance on [--message <text>]",
      summary: "Turn maintenance on (admin or owner), with the message clients are shown (at most 200 characters).",
      flags: [{ name: "message", short: "m", type: "string", value: "<text>", help: 'Shown as "maintenance: <text>" (default: the gateway is in maintenance)' }],
      positionals: true,
      usageError: ON_USAGE,
      run: setMaintenance(true),
    },
    {
      kind: "leaf",
      name: "off",
      synopsis: "maintenance off",
      summary: "Turn maintenance off (admin or owner).",
      positionals: true,
      usageError: "usage: maintenance off",
      run: setMaintenance(false),
    },
    {
      kind: "leaf",
      name: "status",
      synopsis: "maintenance status",
      summary: "Show whether maintenance is on, since when and with which message.",
      positionals: true,
      usageError: "usage: maintenance status",
      run: status,
    },
  ],
};
