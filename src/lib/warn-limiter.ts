// ABOUTME: The once-per-key-per-minute cap on refusal and overflow warn lines (ops.md §6 "Levels"): one limiter shared
// ABOUTME: by every such call site; metrics still count each event, only the log line is capped. The clock is injectable.
import type { LogAttrs, Logger } from "./logger.js";

export const WARN_INTERVAL_MS = 60_000;
/** Keys remembered at once; the oldest is forgotten first. */
const MAX_KEYS = 10_000;

/** Logs a warn line for `key` at most once per interval; later ones within it go to debug. */
export interface WarnLimiter {
  warn(log: Logger, key: string, msg: string, attrs?: LogAttrs): void;
}

/** Creates a limiter; `key` is the refusal kind plus its subject (e.g. `rate:mcp_calls:<session>`). */
export function createWarnLimiter(now: () => number = Date.now, intervalMs = WARN_INTERVAL_MS): WarnLimiter {
  const last = new Map<string, number>();
  return {
    warn(log, key, msg, attrs) {
      const at = now();
      const previous = last.get(key);
      if (previous !== undefined && at - previous < intervalMs) {
        log.debug(msg, attrs);
        return;
      }
      last.delete(key);
      if (last.size >= MAX_KEYS) {
        const oldest = last.keys().next().value;
        if (oldest !== undefined) last.delete(oldest);
      }
      last.set(key, at);
      log.warn(msg, attrs);
    },
  };
}

