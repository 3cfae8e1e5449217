// ABOUTME: What `serve` and `init` both print: the package version and the auth-disabled warning (cli.md §2.1).
// ABOUTME: Its own module so main.ts, serve.ts and init.ts import it instead of each other.
import { packageVersion } from "../../src/lib/package-version.js";
import { parseHostPort } from "../../src/config/derived.js";
import type { GatewayConfig } from "../../src/config/types.js";
import { paint, type CliIo } from "./cli-io.js";

/** The package version, read from package.json at run time (one reader in src/lib). */
export const gatewayVersion = packageVersion;

/** Prints the auth-disabled warning block (cli.md §2.1) to stderr. */
export function printAuthWarning(io: CliIo, config: GatewayConfig): void {
  const lines = [
    "⚠  AUTH DISABLED: no auth.jwt_secret configured.",
    "   Every gRPC, HTTP and MCP caller is treated as an anonymous admin.",
    "   Run `coven-gateway bootstrap --name <you>` to create a secret, an owner and a token.",
  ];
  for (const addr of [config.server.grpcAddr, config.server.httpAddr]) {
    if (!isLoopbackAddr(addr)) lines.push(`   WARNING: ${addr} is reachable from other hosts while auth is disabled.`);
  }
  io.stderr.write(lines.map((l) => paint(io, io.stderr, ["yellow", "bold"], l)).join("\n") + "\n");
}

function isLoopbackAddr(addr: string): boolean {
  const { host } = parseHostPort(addr);
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
