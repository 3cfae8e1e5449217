// ABOUTME: Crash recovery at start: turns a previous run left in flight get their terminal `gateway restarted` row.
// ABOUTME: Runs before the gateway accepts traffic, so no live request can be mistaken for an interrupted one.
import type { Logger } from "../lib/logger.js";
import type { LedgerRepository } from "../store/ledger-repository.js";

/** The text of the terminal row written for a turn that died with the previous gateway process. */
export const GATEWAY_RESTARTED = "gateway restarted";

export interface TurnRecoveryDeps {
  ledger: LedgerRepository;
  log: Logger;
}

/**
 * Appends one outbound `error` row, author `system`, text `gateway restarted`, for every turn whose user message has
 * no terminal row, linked to the turn's conversation, thread and request. Call it only while no turn is live (at
 * start, before listening). Resolves with the number of turns closed; throws only driver errors.
 */
export async function recoverInterruptedTurns(deps: TurnRecoveryDeps): Promise<number> {
  const turns = await deps.ledger.listUnterminatedTurns();
  for (const turn of turns) {
    await deps.ledger.append({
      conversationKey: turn.conversationKey,
      threadId: turn.threadId,
      requestId: turn.requestId,
      direction: "outbound_from_agent",
      author: "system",
      type: "error",
      text: GATEWAY_RESTARTED,
      actorPrincipalId: null,
    });
  }
  if (turns.length > 0) deps.log.warn("closed turns interrupted by a restart", { count: turns.length });
  return turns.length;
}
