// ABOUTME: A real-time Clock that runs a hook once, on the first read made from one source file, to stage a race
// ABOUTME: at an exact point of a request (other readers, e.g. the rate limiters' hooks, do not trigger it).
import type { Clock } from "../../../src/lib/clock.js";

export interface RaceClock extends Clock {
  /** Runs `hook` on the next clock read whose call stack passes through `file` (e.g. "binding-service"). */
  arm(file: string, hook: () => void): void;
  /** True until the armed hook ran. */
  readonly armed: boolean;
}

export function raceClock(): RaceClock {
  let pending: { file: string; hook: () => void } | undefined;
  return {
    now() {
      if (pending !== undefined && (new Error().stack ?? "").includes(pending.file)) {
        const { hook } = pending;
        pending = undefined;
        hook();
      }
      return new Date();
    },
    arm(file, hook) {
      pending = { file, hook };
    },
    get armed() {
      return pending !== undefined;
    },
  };
}
