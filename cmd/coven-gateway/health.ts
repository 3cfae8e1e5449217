// ABOUTME: `coven-gateway health` and `coven-gateway agents`: HTTP probes of a running gateway (cli.md §2.4-2.5).
// ABOUTME: The target comes from server.http_addr with an unspecified host replaced by localhost.
import { loadConfig, ConfigError } from "../../src/config/load-config.js";
import { parseHostPort } from "../../src/config/derived.js";
import { silentLogger } from "../../src/lib/logger.js";
import { AUTH_HINT, resolveConnection } from "../coven-admin/connection.js";
import { printError, type CliIo } from "./cli-io.js";

function targetUrl(io: CliIo, path: string): string | undefined {
  try {
    const { config } = loadConfig({ env: io.env, log: silentLogger });
    const { host, port } = parseHostPort(config.server.httpAddr);
    const h = host === "" || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
    return `http://${h}:${port}${path}`;
  } catch (err) {
    printError(io, `loading config: ${err instanceof ConfigError ? err.message : String(err)}`);
    return undefined;
  }
}

async function fetchWithTimeout(url: string): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(5_000) });
}

function detail(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  return e.cause?.message ? `${e.message}: ${e.cause.message}` : (e.message ?? String(err));
}

/** `health`: 200 prints `healthy` (exit 0); anything else is an error (exit 1). */
export async function runHealth(io: CliIo): Promise<number> {
  const url = targetUrl(io, "/health");
  if (!url) return 1;
  try {
    const response = await fetchWithTimeout(url);
    await response.arrayBuffer();
    if (response.status !== 200) {
      printError(io, `unhealthy: status ${response.status}`);
      return 1;
    }
    io.stdout.write("healthy\n");
    return 0;
  } catch (err) {
    printError(io, `health check failed: ${detail(err)}`);
    return 1;
  }
}

/**
 * `agents`: prints the `/health/ready` body as is and exits 0 whatever the status (cli.md §2.5).
 * `agents --json` (issue 15): one JSON document on stdout, the connected agents as `GET /api/agents` lists them
 * (`id`, `name`, …), fetched with the same token coven-admin sends ($COVEN_TOKEN, else the token file); exit 1
 * when the gateway refuses.
 */
export async function runAgents(args: readonly string[], io: CliIo): Promise<number> {
  const json = args[0] === "--json";
  const extra = json ? args.slice(1) : args;
  if (extra.length > 0) {
    printError(io, `${extra[0]!.startsWith("-") ? "unknown flag" : "unexpected argument"}: ${extra[0]}`);
    return 1;
  }
  const url = targetUrl(io, json ? "/api/agents" : "/health/ready");
  if (!url) return 1;
  let token: string | undefined;
  if (json) token = resolveConnection(io.env).token;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000), headers: token ? { authorization: `Bearer ${token}` } : {} });
    const body = await response.text();
    if (!json) {
      io.stdout.write(body + "\n");
      return 0;
    }
    if (response.status !== 200) {
      let why = body;
      try {
        why = String((JSON.parse(body) as { error?: unknown }).error ?? body);
      } catch {
        // Not JSON: keep the raw body.
      }
      printError(io, `agents check failed: status ${response.status}: ${why}`);
      if (response.status === 401) io.stderr.write(`${AUTH_HINT}\n`);
      return 1;
    }
    io.stdout.write(JSON.stringify(JSON.parse(body), null, 2) + "\n");
    return 0;
  } catch (err) {
    printError(io, `agents check failed: ${detail(err)}`);
    return 1;
  }
}
