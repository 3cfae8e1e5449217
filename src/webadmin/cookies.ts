// ABOUTME: The two web admin cookies (web-admin.md §3.2-3.3): exact names, attributes, and parsing a Cookie header.
// ABOUTME: Values are hex, so no encoding is needed; anything else in the header is ignored.

export const SESSION_COOKIE = "coven_admin_session";
export const CSRF_COOKIE = "coven_admin_csrf";

/** The cookies of a `Cookie` request header by name (the first occurrence wins). */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name !== "" && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** `coven_admin_session=<id>; Path=/; Expires=<http date>; HttpOnly; SameSite=Lax[; Secure]`. */
export function sessionCookie(id: string, expiresAt: Date, isSecure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Expires=${expiresAt.toUTCString()}; HttpOnly; SameSite=Lax${isSecure ? "; Secure" : ""}`;
}

/** `coven_admin_csrf=<token>; Path=/; HttpOnly; SameSite=Strict[; Secure]` (a browser-session cookie). */
export function csrfCookie(token: string, isSecure: boolean): string {
  return `${CSRF_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${isSecure ? "; Secure" : ""}`;
}

/** The logout pair: both cookies emptied with `Max-Age=0`, same Path and HttpOnly. */
export function clearedCookies(isSecure: boolean): string[] {
  const secure = isSecure ? "; Secure" : "";
  return [
    `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure}`,
    `${CSRF_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure}`,
  ];
}
