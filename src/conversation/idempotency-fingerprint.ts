// ABOUTME: Idempotency scopes and request fingerprints of the sends (store.md §7), shared by the HTTP and WS edges.
// ABOUTME: A fingerprint is the SHA-256 of the canonical JSON of the operation's fields, `op` first.
import { createHash } from "node:crypto";

/**
 * SHA-256 hex of the canonical JSON of an operation. `fields` must be built in the order store.md §7 lists them
 * (`op` first); absent strings are `""`, so an absent field and an empty one fingerprint alike.
 */
export function requestHash(fields: Readonly<Record<string, string>>): string {
  return createHash("sha256").update(JSON.stringify(fields), "utf8").digest("hex");
}

/** The caller's key scope: `principal:<principal_id>`. */
export function idempotencyScope(principalId: string): string {
  return `principal:${principalId}`;
}
