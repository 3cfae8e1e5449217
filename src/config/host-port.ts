// ABOUTME: Splits `host:port` listen addresses the way Go's net.SplitHostPort does (IPv6 in brackets).
// ABOUTME: Used by validation (spec §6 row 4) and by the derived URLs (spec §5.1).

import { GatewayError } from "../lib/gateway-error.js";

export interface HostPort {
  /** Host without brackets; "" means all interfaces. */
  readonly host: string;
  /** 0–65535; 0 means an ephemeral port. */
  readonly port: number;
}

/** Like parseHostPort, but returns undefined instead of throwing. */
export function tryParseHostPort(addr: string): HostPort | undefined {
  let host: string;
  let portText: string;
  if (addr.startsWith("[")) {
    const close = addr.indexOf("]");
    if (close < 0 || addr[close + 1] !== ":") return undefined;
    host = addr.slice(1, close);
    portText = addr.slice(close + 2);
    if (host.includes("[") || host.includes("]")) return undefined;
  } else {
    const colon = addr.lastIndexOf(":");
    if (colon < 0) return undefined;
    host = addr.slice(0, colon);
    portText = addr.slice(colon + 1);
    if (host.includes(":") || host.includes("[") || host.includes("]")) return undefined;
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { host, port };
}

/**
 * Parses `host:port`, `[v6]:port` or `:port` (empty host = all interfaces); the port must be 0–65535.
 * Throws GatewayError INVALID_ARGUMENT `invalid address "<addr>" (expected host:port)`.
 */
export function parseHostPort(addr: string): HostPort {
  const parsed = tryParseHostPort(addr);
  if (!parsed) throw new GatewayError("INVALID_ARGUMENT", `invalid address ${JSON.stringify(addr)} (expected host:port)`);
  return parsed;
}

/** Formats a host and port back into `host:port`, bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
