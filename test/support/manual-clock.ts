// ABOUTME: A Clock that only moves when a test advances it, for deadlines and timestamps without real time.
// ABOUTME: Pair it with vitest fake timers when the code under test also sets timers.
import type { Clock } from "../../src/lib/clock.js";

export interface ManualClock extends Clock {
  /** Current time in epoch milliseconds. */
  ms: number;
  advance(ms: number): void;
}

/** A clock standing at `start` (epoch ms or a Date) until `advance` moves it. */
export function manualClock(start: number | Date = Date.UTC(2026, 0, 2, 3, 4, 5)): ManualClock {
  const clock: ManualClock = {
    ms: typeof start === "number" ? start : start.getTime(),
    now: () => new Date(clock.ms),
    advance(ms) {
      clock.ms += ms;
    },
  };
  return clock;
}
