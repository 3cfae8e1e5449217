// ABOUTME: `coven-admin token create --principal ID [--ttl DAYS]` (cli.md §3.7): mints a JWT via AdminService.
// ABOUTME: The TTL is whole days sent as seconds; 0 or less lets the server apply its 30-day default.
import { parseArgs } from "node:util";
import type * as pb from "../../src/gen/coven_pb.js";
import type { CliIo } from "../coven-gateway/cli-io.js";
import { failCall, failUsage } from "./output.js";
import { withGateway } from "./session.js";

/** Runs `token <sub> …`; only `create` exists. */
export async function runToken(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] !== "create") return failUsage(io, "usage: token create --principal <id> [--ttl <duration>]");
  let values: { principal?: string; ttl?: string };
  try {
    values = parseArgs({ args: argv.slice(1), options: { principal: { type: "string", short: "p" }, ttl: { type: "string", short: "t" } } }).values;
  } catch {
    return failUsage(io, "usage: token create --principal <id> [--ttl <days>]");
  }
  const principalId = values.principal;
  if (!principalId) return failUsage(io, "usage: token create --principal <id> [--ttl <days>]");
  const ttlText = values.ttl ?? "30";
  if (!/^[+-]?\d+$/.test(ttlText)) return failUsage(io, `invalid ttl: "${ttlText}" is not a whole number of days`);
  const ttlSeconds = BigInt(ttlText) * 86_400n;
  return withGateway(io, async ({ admin }, conn) => {
    let res: pb.CreateTokenResponse;
    try {
      res = await admin.createToken({ principalId, ttlSeconds });
    } catch (err) {
      return failCall(io, "CreateToken", err, conn);
    }
    io.stdout.write(
      `\n  Token created successfully\n\n  Principal:  ${principalId}\n  Expires:    ${res.expiresAt}\n\n  Token (keep this secret!):\n\n  ${res.token}\n\n`,
    );
    return 0;
  });
}
