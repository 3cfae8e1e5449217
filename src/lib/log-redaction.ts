// ABOUTME: Redaction for every log line (ops.md §6): credential headers by name, JWT-shaped strings, bearer tokens,
// ABOUTME: capability URL parts (/mcp/<token>, ?token=, /invite/<token>, /api/link/status/<code>) and known secret values.
import { createHash } from "node:crypto";

/** What a redacted value becomes. */
export const REDACTED = "[redacted]";

/** Attribute names whose values are credentials wherever they appear (headers and our own attribute names). */
const SECRET_KEYS = new Set([
  "authorization",
  "cookie",
  "set-cookie",
  "x-csrf-token",
  "mcp-session-id",
  "x-ssh-signature",
  "password",
  "token",
  "secret",
  "jwt_secret",
  "mcp_token",
  "session_token",
  "setup_token",
  "invite_token",
  "link_token",
  "csrf_token",
]);

const JWT_LIKE = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;
const BEARER = /\b(Bearer)\s+[^\s",;]+/gi;
const URL_PARTS: Array<[RegExp, string]> = [
  [/(\/mcp\/)[^/?#\s"']+/g, `$1${REDACTED}`],
  [/([?&]token=)[^&#\s"']*/g, `$1${REDACTED}`],
  [/(\/invite\/)[^/?#\s"']+/g, `$1${REDACTED}`],
  [/(\/api\/link\/status\/)[^/?#\s"']+/g, `$1${REDACTED}`],
];

/** Redacts one log string: JWT-shaped runs, bearer credentials, capability URL parts and every known secret. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== "" && out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (out.includes("eyJ")) out = out.replace(JWT_LIKE, REDACTED);
  if (/bearer/i.test(out)) out = out.replace(BEARER, `$1 ${REDACTED}`);
  if (out.includes("/") || out.includes("token=")) for (const [pattern, replacement] of URL_PARTS) out = out.replace(pattern, replacement);
  return out;
}

/** A JSON-safe, redacted copy of one attribute value (errors become `{type, message, stack?}`). */
export function redactValue(value: unknown, secrets: readonly string[], withStack: boolean, depth = 0): unknown {
  if (typeof value === "string") return redactText(value, secrets);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const err: Record<string, unknown> = { type: value.name, message: redactText(value.message, secrets) };
    if (withStack && value.stack !== undefined) err.stack = redactText(value.stack, secrets);
    return err;
  }
  if (value === null || typeof value !== "object") return value;
  if (depth >= 4) return "[object]";
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets, withStack, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redactValue(v, secrets, withStack, depth + 1);
  }
  return out;
}

/** Redacts a whole attribute set; a credential-named attribute is replaced outright. */
export function redactAttrs(attrs: Record<string, unknown>, secrets: readonly string[], withStack: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redactValue(v, secrets, withStack);
  return out;
}

/**
 * The `mcp_session` attribute of ops.md §6: the first 12 hex characters of the SHA-256 of an MCP session id. The id
 * itself is a capability and never appears in a line.
 */
export function mcpSessionTag(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex").slice(0, 12);
}

/** Longest conversation content a line may carry (ops.md §6). */
export const LOGGED_CONTENT_CHARS = 200;

/**
 * Logs conversation content (a message, a tool's input or output, an answer) the one allowed way: at debug only, cut
 * to 200 characters, under `content`.
 */
export function debugContent(log: { debug(msg: string, attrs?: Record<string, unknown>): void }, msg: string, content: string, attrs: Record<string, unknown> = {}): void {
  log.debug(msg, { ...attrs, content: content.length > LOGGED_CONTENT_CHARS ? content.slice(0, LOGGED_CONTENT_CHARS) : content });
}
