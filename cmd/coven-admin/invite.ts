// ABOUTME: `coven-admin invite create [--url URL] [--db PATH] [--ttl HOURS]` (cli.md §3.8): writes the invite row
// ABOUTME: and its audit row straight into the gateway's SQLite file (the same one `serve` uses) and prints the link.
import { loadConfig } from "../../src/config/load-config.js";
import { isoTimestamp } from "../../src/lib/clock.js";
import { silentLogger } from "../../src/lib/logger.js";
import { CLI_ACTOR, createAuditRepository } from "../../src/store/audit-repository.js";
import { openDatabase } from "../../src/store/database.js";
import { createInviteRepository } from "../../src/store/invite-repository.js";
import type { CliIo } from "../coven-gateway/cli-io.js";
import type { Group, Parsed } from "./command.js";
import { failUsage } from "./output.js";

async function createInvite(parsed: Parsed, io: CliIo): Promise<number> {
  const values = parsed.values as { url?: string; db?: string; ttl?: string };
  const ttlText = values.ttl ?? "24";
  if (!/^\d+$/.test(ttlText) || Number(ttlText) <= 0) return failUsage(io, `invalid ttl: "${ttlText}" is not a positive whole number of hours`);
  const hours = Number(ttlText);

  let configDb: string | undefined;
  let configBase = "";
  if (values.db === undefined || values.url === undefined) {
    try {
      const { config } = loadConfig({ env: io.env, log: silentLogger });
      configDb = config.database.path;
      configBase = config.webadmin.baseUrl;
    } catch (err) {
      return failUsage(io, `loading config: ${(err as Error).message}`);
    }
  }
  // loadConfig already applies COVEN_DB_PATH over database.path, and falls back to <data dir>/gateway.db.
  const dbPath = values.db ?? configDb!;
  const base = (
    values.url ||
    io.env.COVEN_GATEWAY_URL ||
    (io.env.COVEN_GATEWAY_HOST ? `http://${io.env.COVEN_GATEWAY_HOST}` : "") ||
    configBase ||
    "http://localhost:8080"
  ).replace(/\/+$/, "");

  const store = await openDatabase({ path: dbPath, log: silentLogger });
  try {
    const now = new Date();
    const expiresAt = isoTimestamp(new Date(now.getTime() + hours * 3_600_000));
    const invite = await store.db.transaction().execute(async (trx) => {
      const created = await createInviteRepository(trx).create({ now: isoTimestamp(now), expiresAt });
      await createAuditRepository(trx).record({ actor: CLI_ACTOR, action: "create_invite", targetType: "admin_invite", targetId: created.id, detail: { ttl_hours: hours }, now: isoTimestamp(now) });
      return created;
    });
    const rfc3339 = new Date(invite.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z");
    io.stdout.write(`\n  Admin invite created!\n\n  Invite URL:\n\n  ${base}/invite/${invite.id}\n\n  Expires: ${rfc3339} (${hours} hours)\n\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** `invite [create]`; `invite` alone means `invite create`. */
export const INVITE: Group = {
  kind: "group",
  name: "invite",
  summary: "Create admin web UI invite links (written straight into the gateway's database file).",
  defaultSubcommand: "create",
  unknownError: (sub) => `unknown invite subcommand: ${sub} (use create)`,
  subcommands: [
    {
      kind: "leaf",
      name: "create",
      synopsis: "invite create [--url <url>] [--db <path>] [--ttl <hours>]",
      summary:
        "Write a one-time invite into the gateway's SQLite file and print its link <base>/invite/<token>.\n" +
        "Runs where the database file is reachable, even while the gateway serves it.",
      flags: [
        { name: "url", short: "u", type: "string", value: "<url>", help: "Base URL (default $COVEN_GATEWAY_URL, http://$COVEN_GATEWAY_HOST, webadmin.base_url, http://localhost:8080)" },
        { name: "db", short: "d", type: "string", value: "<path>", help: "Database file (default $COVEN_DB_PATH, database.path of the config, <data dir>/gateway.db)" },
        { name: "ttl", short: "t", type: "string", value: "<hours>", help: "Lifetime in hours (default 24)" },
      ],
      usageError: "usage: invite create [--url <url>] [--db <path>] [--ttl <hours>]",
      run: createInvite,
    },
  ],
};
