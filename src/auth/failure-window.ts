// ABOUTME: Counts failed attempts per client address over a sliding window (QR pairing: 5 a minute), in memory.
// ABOUTME: Bounded: when the table is full the address touched longest ago is forgotten first.
import { systemClock, type Clock } from "../lib/clock.js";

export const DEFAULT_FAILURE_WINDOW_MAX_ADDRESSES = 10_000;

export interface FailureWindowOptions {
  /** An address with this many failures inside the window is refused. */
  limit: number;
  windowMs: number;
  /** Addresses tracked at once. */
  maxAddresses?: number;
  clock?: Clock;
}

export interface FailureWindow {
  /** True when `address` has `limit` or more failures within the window ending now. */
  isBlocked(address: string): boolean;
  /** Counts one failure of `address` now. */
  recordFailure(address: string): void;
}

/** Creates the counter. A success does not erase failures; they age out of the window. */
export function createFailureWindow(options: FailureWindowOptions): FailureWindow {
  const { limit, windowMs } = options;
  const maxAddresses = options.maxAddresses ?? DEFAULT_FAILURE_WINDOW_MAX_ADDRESSES;
  const clock = options.clock ?? systemClock;
  /** Map order is last-activity order: the first entry is the one touched longest ago. */
  const failures = new Map<string, number[]>();

  const recent = (address: string, nowMs: number): number[] =>
    (failures.get(address) ?? []).filter((at) => at > nowMs - windowMs);

  return {
    isBlocked(address) {
      const nowMs = clock.now().getTime();
      const live = recent(address, nowMs);
      if (live.length === 0) failures.delete(address);
      else failures.set(address, live);
      return live.length >= limit;
    },

    recordFailure(address) {
      const nowMs = clock.now().getTime();
      const live = recent(address, nowMs);
      failures.delete(address);
      while (failures.size >= maxAddresses) {
        const oldest = failures.keys().next().value;
        if (oldest === undefined) break;
        failures.delete(oldest);
      }
      live.push(nowMs);
      failures.set(address, live);
    },
  };
}
