// ABOUTME: `coven-gateway health` and `coven-gateway agents`: HTTP probes of a running gateway (cli.md §2.4-2.5).
// ABOUTME: The target comes from server.http_addr with an unspecified host replaced by localhost.
import { loadConfig, ConfigError } from "../../src/config/load-config.js";
import { parseHostPort } from "../../src/config/derived.js";
import { silentLogger } from "../../src/lib/logger.js";
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

/** `agents`: prints the `/health/ready` body as is and exits 0 whatever the status. */
export async function runAgents(io: CliIo): Promise<number> {
  const url = targetUrl(io, "/health/ready");
  if (!url) return 1;
  try {
    const response = await fetchWithTimeout(url);
    io.stdout.write((await response.text()) + "\n");
    return 0;
  } catch (err) {
    printError(io, `agents check failed: ${detail(err)}`);
    return 1;
  }
}
