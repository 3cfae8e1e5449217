// ABOUTME: The identity part of gateway startup (store.md §9 steps 2-3): ensure or revoke `anonymous`,
// ABOUTME: then set every `online` principal to `offline`, since no stream survives a restart.
import { systemClock, isoTimestamp, type Clock } from "../lib/clock.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import { createPrincipalRepository } from "../store/principal-repository.js";
import type { StoreExecutor } from "../store/transaction.js";

/**
 * Runs startup steps 2 and 3 of store.md §9 in order. No-auth: the `anonymous` row is created or reset
 * (approved, role admin). Auth on: it is revoked if present. Store failures propagate (startup fails).
 */
export async function prepareIdentityStore(options: {
  db: StoreExecutor;
  isAuthEnabled: boolean;
  clock?: Clock;
  log?: Logger;
}): Promise<void> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const principals = createPrincipalRepository(options.db);
  await principals.ensureAnonymous(options.isAuthEnabled, isoTimestamp(clock.now()));
  const reset = await principals.resetOnlineToOffline();
  if (reset > 0) log.info("principals reset to offline at startup", { count: reset });
}
