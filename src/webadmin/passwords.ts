// ABOUTME: Admin credentials (web-admin.md §3.1): username and password rules with their exact texts, and bcrypt
// ABOUTME: (cost 10) hashing and checking, including the Go reference's `$2a$` hashes.
import { compare, hash } from "bcryptjs";

export const BCRYPT_COST = 10;
/** bcrypt reads at most 72 bytes of a password. */
export const MAX_PASSWORD_BYTES = 72;

export const CREDENTIAL_TEXT = Object.freeze({
  usernameTooShort: "Username must be at least 3 characters",
  usernameTooLong: "Username must be at most 32 characters",
  usernameInvalid: "Username must start with a letter and contain only letters, numbers, and underscores",
  passwordTooShort: "Password must be at least 8 characters",
  passwordUnprocessable: "Failed to process password",
});

const USERNAME_RE = /^[a-zA-Z][a-zA-Z0-9_]{2,31}$/;

/** The first broken username rule's text, in the spec's order; undefined when valid. */
export function usernameProblem(username: string): string | undefined {
  if (username.length < 3) return CREDENTIAL_TEXT.usernameTooShort;
  if (username.length > 32) return CREDENTIAL_TEXT.usernameTooLong;
  if (!USERNAME_RE.test(username)) return CREDENTIAL_TEXT.usernameInvalid;
  return undefined;
}

/** The password rule's text: under 8 characters, or (the bcrypt outcome) over 72 UTF-8 bytes. */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < 8) return CREDENTIAL_TEXT.passwordTooShort;
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) return CREDENTIAL_TEXT.passwordUnprocessable;
  return undefined;
}

/** A bcrypt hash at cost 10 (`$2b$`). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, BCRYPT_COST);
}

/**
 * A fixed cost-10 hash of a random string: unknown usernames are checked against it so that a miss costs the
 * same time as a wrong password.
 */
const DUMMY_HASH = "$2a$10$CwTycUXWue0Thq9StjUM0uJ8S4u9Lj0s0FQ0m5K5xGqJ4bGQkq1Xe";

/** True when `password` matches `stored` (`$2a$`, `$2b$` or `$2y$`). A malformed hash is a mismatch. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  try {
    return await compare(password, stored);
  } catch {
    return false;
  }
}

/** Runs a compare against the dummy hash and discards the result (timing equaliser for unknown users). */
export async function burnPasswordCheck(password: string): Promise<void> {
  await verifyPassword(password, DUMMY_HASH);
}
