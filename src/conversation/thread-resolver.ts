// ABOUTME: Finds or creates the thread a turn lands in, per the thread rules of http-api.md §12.
// ABOUTME: Races on the unique (frontend_name, external_id) key resolve to the thread that won.
import { GatewayError } from "../lib/gateway-error.js";
import type { IdSource } from "../lib/ids.js";
import type { Thread, ThreadWrites } from "../store/thread-repository.js";

export interface ThreadTarget {
  /** A client-supplied thread id (kept as given when new). */
  threadId?: string | undefined;
  frontendName: string;
  /** The external id; `undefined` means "the thread id itself" (the `/api/send` agent_id path). */
  externalId?: string | undefined;
  agentId: string;
}

/**
 * Resolves the thread of a turn. With a thread id: that thread if it exists (whoever created it), else a new one
 * with that id; without: the thread holding the pair, else a new one. Synchronous, inside the transaction of the
 * turn's first write (a `WriteBatcher` unit). Throws INTERNAL if no thread can be had.
 */
export function resolveThread(
  threads: ThreadWrites,
  ids: IdSource,
  now: string,
  target: ThreadTarget,
): Thread {
  if (target.threadId) {
    const existing = threads.findById(target.threadId);
    if (existing) return existing;
    const externalId = target.externalId ?? target.threadId;
    const created = threads.insert({
      id: target.threadId,
      frontendName: target.frontendName,
      externalId,
      agentId: target.agentId,
      now,
    });
    if (created) return created;
    const again = threads.findById(target.threadId) ?? threads.findByPair(target.frontendName, externalId);
    if (again) return again;
    throw new GatewayError("INTERNAL", "thread could not be resolved");
  }
  const id = ids.uuid();
  const externalId = target.externalId ?? id;
  // A fresh id as the external id cannot be taken yet, so only a caller-chosen pair needs the lookup.
  if (target.externalId !== undefined) {
    const byPair = threads.findByPair(target.frontendName, externalId);
    if (byPair) return byPair;
  }
  const created = threads.insert({ id, frontendName: target.frontendName, externalId, agentId: target.agentId, now });
  if (created) return created;
  const winner = threads.findByPair(target.frontendName, externalId);
  if (winner) return winner;
  throw new GatewayError("INTERNAL", "thread could not be resolved");
}
