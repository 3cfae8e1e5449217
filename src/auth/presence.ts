// ABOUTME: Principal presence (store.md §8, agent-stream.md §8): online on the first agent stream, offline after
// ABOUTME: the last, last_seen refreshed at most once a minute; store writes run in order on one queue.
import { systemClock, isoTimestamp, type Clock } from "../lib/clock.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import { ANONYMOUS_PRINCIPAL_ID, createPrincipalRepository } from "../store/principal-repository.js";
import type { StoreExecutor } from "../store/transaction.js";

/** How often inbound frames may refresh `last_seen` per principal. */
export const LAST_SEEN_REFRESH_MS = 60_000;

/**
 * The agent layer's presence port (structurally `PresenceTracker` of src/agent/agent-ports.ts) plus `flush`.
 * The agent layer already counts streams per principal and calls `streamOpened` for the first and
 * `streamClosed` for the last one.
 */
export interface PresenceService {
  streamOpened(principalId: string): void;
  streamClosed(principalId: string): void;
  frameReceived(principalId: string): void;
  /** Another stream of the principal registered or ended: `last_seen` = now (not throttled). */
  streamTouched(principalId: string): void;
  /** Resolves once every queued store write has finished (tests, and shutdown before the database closes). */
  flush(): Promise<void>;
}

export interface PresenceOptions {
  db: StoreExecutor;
  clock?: Clock;
  log?: Logger;
  refreshMs?: number;
}

/**
 * Creates the presence tracker. Calls return at once; the writes are queued in call order so an `offline` can
 * never overtake the `online` before it. Failures are logged at warn, never thrown. `anonymous` is ignored.
 */
export function createPresenceService(options: PresenceOptions): PresenceService {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const refreshMs = options.refreshMs ?? LAST_SEEN_REFRESH_MS;
  const principals = createPrincipalRepository(options.db);
  const lastTouchMs = new Map<string, number>();
  let queue: Promise<void> = Promise.resolve();

  const enqueue = (what: string, principalId: string, write: (now: string) => Promise<unknown>): void => {
    const now = isoTimestamp(clock.now());
    queue = queue.then(
      () =>
        write(now).then(
          () => undefined,
          (err: unknown) => log.warn(`presence update failed: ${what}`, { principal_id: principalId, cause: err }),
        ),
    );
  };

  return {
    streamOpened(principalId) {
      if (principalId === ANONYMOUS_PRINCIPAL_ID) return;
      lastTouchMs.set(principalId, clock.now().getTime());
      enqueue("online", principalId, (now) => principals.markOnline(principalId, now));
    },
    streamClosed(principalId) {
      if (principalId === ANONYMOUS_PRINCIPAL_ID) return;
      lastTouchMs.delete(principalId);
      enqueue("offline", principalId, async (now) => {
        // A revoked or pending principal keeps its status; last_seen still records the disconnect.
        if (!(await principals.markOffline(principalId, now))) await principals.touch(principalId, now);
      });
    },
    frameReceived(principalId) {
      if (principalId === ANONYMOUS_PRINCIPAL_ID) return;
      const nowMs = clock.now().getTime();
      const last = lastTouchMs.get(principalId);
      if (last !== undefined && nowMs - last < refreshMs) return;
      lastTouchMs.set(principalId, nowMs);
      enqueue("last_seen", principalId, (now) => principals.touch(principalId, now));
    },
    streamTouched(principalId) {
      if (principalId === ANONYMOUS_PRINCIPAL_ID) return;
      lastTouchMs.set(principalId, clock.now().getTime());
      enqueue("last_seen", principalId, (now) => principals.touch(principalId, now));
    },
    flush() {
      return queue;
    },
  };
}
