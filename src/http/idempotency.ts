// ABOUTME: The `Idempotency-Key` header and request fingerprints of the HTTP sends (store.md §7).
// ABOUTME: An optional early lookup answers duplicates and key reuse before target resolution, in the spec's order.
import type { FastifyRequest } from "fastify";
import { GatewayError } from "../lib/gateway-error.js";
import { HttpError } from "./http-errors.js";

export { idempotencyScope, requestHash } from "../conversation/idempotency-fingerprint.js";

/** The longest accepted key (store.md §7: 1-100 chars). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 100;

/** What `ConversationService.send` needs to make a send idempotent. */
export interface IdempotencyClaim {
  scope: string;
  key: string;
  requestHash: string;
}

/** Read access to live idempotency keys (the store's IdempotencyRepository satisfies it). */
export interface IdempotencyLookup {
  find(scope: string, key: string, now: string): Promise<{ requestHash: string; messageId: string; threadId: string } | undefined>;
}

/**
 * The `Idempotency-Key` header, or undefined when absent or empty. Throws GatewayError INVALID_ARGUMENT
 * `idempotency key too long` over 100 chars.
 */
export function readIdempotencyKey(request: FastifyRequest): string | undefined {
  const raw = request.headers["idempotency-key"];
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (key === undefined || key === "") return undefined;
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) throw new GatewayError("INVALID_ARGUMENT", "idempotency key too long");
  return key;
}

/**
 * Looks the claim up ahead of target resolution. Returns the original turn for a duplicate, undefined when the
 * key is new. Throws HttpError 422 `idempotency key reused with different content` for a different fingerprint.
 * `ConversationService.send` re-checks under its per-key lock, so this early answer never weakens the guarantee.
 */
export async function findDuplicate(
  lookup: IdempotencyLookup | undefined,
  claim: IdempotencyClaim,
  now: string,
): Promise<{ messageId: string; threadId: string } | undefined> {
  if (lookup === undefined) return undefined;
  const existing = await lookup.find(claim.scope, claim.key, now);
  if (existing === undefined) return undefined;
  if (existing.requestHash !== claim.requestHash) throw reusedKeyError();
  return { messageId: existing.messageId, threadId: existing.threadId };
}

/** The 422 of a key seen with a different fingerprint. */
export function reusedKeyError(cause?: unknown): HttpError {
  return new HttpError(422, "idempotency key reused with different content", { cause });
}
