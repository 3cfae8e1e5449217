// ABOUTME: `coven-admin token create --principal ID [--ttl DAYS]` (cli.md §3.7): mints a JWT via AdminService.
// ABOUTME: The TTL is whole days sent as seconds; 0 or less lets the server apply its 30-day default.
import type * as pb from "../../src/gen/coven_pb.js";
import type { CliIo } from "../coven-gateway/cli-io.js";
import { failCall, failUsage } from "./output.js";
import type { Group, Parsed } from "./command.js";
import { withGateway } from "./session.js";

const CREATE_USAGE = "usage: token create --principal <id> [--ttl <days>]";

async function createToken({ values }: Parsed, io: CliIo): Promise<number> {
  const principalId = values.principal as string | undefined;
  if (!principalId) return failUsage(io, CREATE_USAGE);
  const ttlText = (values.ttl as string | undefined) ?? "30";
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

/** `token create`; a subcommand is required (cli.md §3.7 quotes the error for a missing or other one). */
export const TOKEN: Group = {
  kind: "group",
  name: "token",
  summary: "Mint JWTs for principals.",
  unknownError: () => "usage: token create --principal <id> [--ttl <duration>]",
  subcommands: [
    {
      kind: "leaf",
      name: "create",
      synopsis: "token create --principal <id> [--ttl <days>]",
      summary: "Generate a JWT for a principal (needs the admin or owner role). The token is printed once.",
      flags: [
        { name: "principal", short: "p", type: "string", value: "<id>", help: "Principal id the token authenticates as (required)" },
        { name: "ttl", short: "t", type: "string", value: "<days>", help: "Lifetime in whole days (default 30; 0 or less: the server default of 30)" },
      ],
      usageError: CREATE_USAGE,
      run: createToken,
    },
  ],
};
