// ABOUTME: The WebAuthn relying party of the web admin (web-admin.md §3.7), derived once from the public base URL:
// ABOUTME: rpID = the DNS hostname (IP literals become `localhost`), expected origins = both schemes of host:port.
import net from "node:net";
import type { Logger } from "../lib/logger.js";

export const RP_NAME = "coven admin";

export interface RelyingParty {
  rpName: string;
  rpID: string;
  origins: string[];
}

function origin(scheme: string, host: string, port: string): string {
  const isDefault = (scheme === "http:" && port === "80") || (scheme === "https:" && port === "443") || port === "";
  return `${scheme}//${host}${isDefault ? "" : `:${port}`}`;
}

/**
 * The relying party for `baseUrl`; undefined when it is not an absolute http(s) URL (the WebAuthn routes then
 * answer 503). An IP literal logs the warning that passkeys need `http://localhost:<port>`.
 */
export function deriveRelyingParty(baseUrl: string, log: Logger): RelyingParty | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const other = url.protocol === "https:" ? "http:" : "https:";
  if (net.isIP(host) !== 0) {
    log.warn(`passkeys require opening the admin UI at http://localhost:${port} (IP addresses cannot be WebAuthn RP IDs)`);
    return { rpName: RP_NAME, rpID: "localhost", origins: [origin("http:", "localhost", url.port), origin("https:", "localhost", url.port)] };
  }
  const withPort = (scheme: string) => origin(scheme, url.hostname, url.port);
  return { rpName: RP_NAME, rpID: host, origins: [withPort(url.protocol), withPort(other)] };
}
