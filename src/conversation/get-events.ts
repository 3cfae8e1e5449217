// ABOUTME: The GetEvents read of a conversation's ledger (services.md GetEvents, store.md §6), transport-agnostic.
// ABOUTME: Checks the input in spec order, normalises RFC 3339 bounds and decodes the opaque cursor.
import { GatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import { parseRfc3339 } from "../lib/rfc3339.js";
import { decodeCursor } from "../store/cursor.js";
import type { ConversationPage, LedgerRepository } from "../store/ledger-repository.js";

export interface GetEventsInput {
  conversationKey: string;
  /** RFC 3339, inclusive; empty means unset. */
  since?: string | undefined;
  /** RFC 3339, inclusive; empty means unset. */
  until?: string | undefined;
  /** 50 when absent or ≤ 0, at most 500. */
  limit?: number | undefined;
  /** The opaque cursor of the previous page; empty means the first page. */
  cursor?: string | undefined;
}

/**
 * Reads one page of a conversation, oldest first. Throws INVALID_ARGUMENT `conversation_key required`, `invalid
 * since timestamp`, `invalid until timestamp`, `invalid cursor` (in that order), and INTERNAL `failed to fetch
 * events` when the read fails (the cause is logged).
 */
export async function getEvents(deps: { ledger: LedgerRepository; log: Logger }, input: GetEventsInput): Promise<ConversationPage> {
  if (input.conversationKey === "") throw new GatewayError("INVALID_ARGUMENT", "conversation_key required");
  let since: string | undefined;
  if (input.since !== undefined && input.since !== "") {
    since = parseRfc3339(input.since, "up");
    if (since === undefined) throw new GatewayError("INVALID_ARGUMENT", "invalid since timestamp");
  }
  let until: string | undefined;
  if (input.until !== undefined && input.until !== "") {
    until = parseRfc3339(input.until, "down");
    if (until === undefined) throw new GatewayError("INVALID_ARGUMENT", "invalid until timestamp");
  }
  let afterSeq: number | undefined;
  if (input.cursor !== undefined && input.cursor !== "") {
    afterSeq = decodeCursor(input.cursor);
    if (afterSeq === undefined) throw new GatewayError("INVALID_ARGUMENT", "invalid cursor");
  }
  try {
    return await deps.ledger.listConversation({ conversationKey: input.conversationKey, since, until, afterSeq, limit: input.limit });
  } catch (err) {
    deps.log.error("fetching events failed", { conversation_key: input.conversationKey, cause: err });
    throw new GatewayError("INTERNAL", "failed to fetch events", { cause: err, reason: "events_fetch_failed" });
  }
}
