// ABOUTME: A per-client-address sliding-window request limit for the public device-link routes (auth.md §12).
// ABOUTME: In memory and bounded: the address touched longest ago is forgotten first when the table is full.
import { systemClock, type Clock } from "../lib/clock.js";

/** Link routes: 60 requests a minute per client address (http-api.md §9). */
export const LINK_RATE_LIMIT = 60;
export const LINK_RATE_WINDOW_MS = 60_000;
export const DEFAULT_RATE_LIMIT_MAX_ADDRESSES = 10_000;

export interface AddressRateLimiterOptions {
  limit?: number;
  windowMs?: number;
  /** Addresses tracked at once. */
  maxAddresses?: number;
  clock?: Clock;
}

export interface AddressRateLimiter {
  /**
   * Counts one request from `address` and returns true, or returns false (counting nothing) when the address
   * already made `limit` requests within the window.
   */
  tryAcquire(address: string): boolean;
}

/** Creates the limiter. Rejected requests are not counted, so a client regains budget as old requests age out. */
export function createAddressRateLimiter(options: AddressRateLimiterOptions = {}): AddressRateLimiter {
  const limit = options.limit ?? LINK_RATE_LIMIT;
  const windowMs = options.windowMs ?? LINK_RATE_WINDOW_MS;
  const maxAddresses = options.maxAddresses ?? DEFAULT_RATE_LIMIT_MAX_ADDRESSES;
  const clock = options.clock ?? systemClock;
  /** Map order is last-activity order: the first entry is the one touched longest ago. */
  const requests = new Map<string, number[]>();

  return {
    tryAcquire(address) {
      const nowMs = clock.now().getTime();
      const recent = (requests.get(address) ?? []).filter((at) => at > nowMs - windowMs);
      requests.delete(address);
      if (recent.length >= limit) {
        requests.set(address, recent);
        return false;
      }
      while (requests.size >= maxAddresses) {
        const oldest = requests.keys().next().value;
        if (oldest === undefined) break;
        requests.delete(oldest);
      }
      recent.push(nowMs);
      requests.set(address, recent);
      return true;
    },
  };
}
