// ABOUTME: Double-submit CSRF (web-admin.md §3.3): a 64-hex cookie whose value must come back in the form field
// ABOUTME: `csrf_token` or the `X-CSRF-Token` header, compared in constant time.
import { randomBytes, timingSafeEqual } from "node:crypto";

const TOKEN_RE = /^[0-9a-f]{64}$/;

/** A fresh token: 32 random bytes as 64 lowercase hex characters. */
export function newCsrfToken(): string {
  return randomBytes(32).toString("hex");
}

/** True for a value that could be one of our tokens (a page keeps a well-formed cookie instead of replacing it). */
export function isWellFormedCsrfToken(value: string | undefined): value is string {
  return value !== undefined && TOKEN_RE.test(value);
}

/** True when the cookie is present and non-empty and equals the submitted value (constant time). */
export function csrfMatches(cookie: string | undefined, submitted: string | undefined): boolean {
  if (!cookie || !submitted) return false;
  const a = Buffer.from(cookie, "utf8");
  const b = Buffer.from(submitted, "utf8");
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
