// ABOUTME: The self-registration rate limit of auth.md §13: 5 attempts per sliding 60 s per caller principal.
// ABOUTME: In memory (resets on restart), shared by RegisterAgent and RegisterClient, injectable clock.
import { systemClock, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";

export const REGISTRATION_LIMIT = 5;
export const REGISTRATION_WINDOW_MS = 60_000;

export interface RegistrationLimiter {
  /**
   * Counts one attempt by `principalId`. Throws GatewayError RESOURCE_EXHAUSTED
   * `rate limit exceeded: max 5 registrations per 1m0s` when the caller already used its budget in the window.
   */
  attempt(principalId: string): void;
}

/** Creates the limiter. Rejected attempts are not counted, so a caller regains budget as old attempts age out. */
export function createRegistrationLimiter(options: { clock?: Clock; limit?: number; windowMs?: number } = {}): RegistrationLimiter {
  const clock = options.clock ?? systemClock;
  const limit = options.limit ?? REGISTRATION_LIMIT;
  const windowMs = options.windowMs ?? REGISTRATION_WINDOW_MS;
  const attempts = new Map<string, number[]>();

  return {
    attempt(principalId) {
      const nowMs = clock.now().getTime();
      for (const [id, times] of attempts) {
        if (times.every((at) => at <= nowMs - windowMs)) attempts.delete(id);
      }
      const recent = (attempts.get(principalId) ?? []).filter((at) => at > nowMs - windowMs);
      if (recent.length >= limit) {
        attempts.set(principalId, recent);
        throw new GatewayError("RESOURCE_EXHAUSTED", "rate limit exceeded: max 5 registrations per 1m0s");
      }
      recent.push(nowMs);
      attempts.set(principalId, recent);
    },
  };
}
