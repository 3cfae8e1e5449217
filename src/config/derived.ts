// ABOUTME: Values derived from the config once the listeners are bound (config spec §5.1).
// ABOUTME: The public base URL (links, WebAuthn, cookies) and the MCP endpoint sent to agents.

import net from "node:net";
import { lookupEnv } from "./expand-env.js";
import { formatHostPort, parseHostPort, tryParseHostPort } from "./host-port.js";
import type { GatewayConfig } from "./types.js";

export { parseHostPort } from "./host-port.js";
export type { HostPort } from "./host-port.js";

function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** True for hosts a browser should reach as `localhost`: empty, wildcard, `localhost`, 127.0.0.0/8, ::1. */
export function isLocalHostName(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "" || h === "0.0.0.0" || h === "::" || h === "localhost" || h === "::1") return true;
  return net.isIPv4(h) && h.startsWith("127.");
}

/**
 * The public base URL, first non-empty of: `webadmin.base_url`; `$COVEN_GATEWAY_URL`;
 * `http://<host>:<boundHttpPort>` where a wildcard or loopback host becomes `localhost`.
 * No trailing `/`. Throws GatewayError INVALID_ARGUMENT only for an unparsable `server.http_addr`
 * (a validated config never has one).
 */
export function publicBaseUrl(config: GatewayConfig, boundHttpPort: number, env: NodeJS.ProcessEnv): string {
  if (config.webadmin.baseUrl) return stripTrailingSlash(config.webadmin.baseUrl);
  const fromEnv = lookupEnv(env, "COVEN_GATEWAY_URL");
  if (fromEnv) return stripTrailingSlash(fromEnv);
  const { host } = parseHostPort(config.server.httpAddr);
  const shownHost = isLocalHostName(host) ? "localhost" : host;
  return `http://${formatHostPort(shownHost, boundHttpPort)}`;
}

/**
 * The MCP endpoint for `Welcome.mcp_endpoint`: `$COVEN_MCP_ENDPOINT` verbatim; else
 * `$COVEN_GATEWAY_URL` + `/mcp` (a trailing `/` on the URL is dropped first); else
 * `http://<server.http_addr>/mcp` with a configured port 0 replaced by `boundHttpPort`.
 * `webadmin.base_url` deliberately plays no part. Never throws.
 */
export function mcpEndpoint(config: GatewayConfig, boundHttpPort: number, env: NodeJS.ProcessEnv): string {
  const explicit = lookupEnv(env, "COVEN_MCP_ENDPOINT");
  if (explicit) return explicit;
  const gatewayUrl = lookupEnv(env, "COVEN_GATEWAY_URL");
  if (gatewayUrl) return `${stripTrailingSlash(gatewayUrl)}/mcp`;
  const addr = config.server.httpAddr;
  const parsed = tryParseHostPort(addr);
  const shown = parsed && parsed.port === 0 ? formatHostPort(parsed.host, boundHttpPort) : addr;
  return `http://${shown}/mcp`;
}
