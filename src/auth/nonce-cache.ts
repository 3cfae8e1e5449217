// ABOUTME: The SSH replay cache: remembers `<fingerprint>:<timestamp>:<nonce>` keys of verified signatures.
// ABOUTME: Bounded (10 000 by default, oldest insertion evicted when full), 6 min retention, injectable clock.
import { systemClock, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";

/** auth.md §5.1: max entries. */
export const DEFAULT_NONCE_CACHE_MAX_ENTRIES = 10_000;
/** auth.md §5.1: 1 min of allowed clock skew ahead plus 5 min of signature validity. */
export const DEFAULT_NONCE_TTL_MS = 6 * 60_000;
/** auth.md §5.1: expired entries are swept every minute. */
export const DEFAULT_NONCE_SWEEP_INTERVAL_MS = 60_000;

export interface NonceCacheOptions {
  maxEntries?: number;
  ttlMs?: number;
  sweepIntervalMs?: number;
  clock?: Clock;
}

/** Replay cache. Reading and inserting are separate so junk signatures never take a slot (auth.md §15 #5). */
export interface NonceCache {
  /** True when `key` was inserted and has not expired. */
  has(key: string): boolean;
  /** Records `key` for the retention period, evicting the oldest insertion when the cache is full. */
  add(key: string): void;
  /** Drops expired entries now; returns how many were dropped. */
  sweep(): number;
  /** Entries currently held (expired ones count until swept). */
  readonly size: number;
}

function requirePositiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new GatewayError("INVALID_ARGUMENT", `${name} must be a positive integer`);
  return value;
}

/**
 * Creates the in-memory replay cache of auth.md §5.1. The minute sweep runs lazily on `add` (no timer to
 * close). When full, the spec's rule applies: the oldest insertion is evicted even if unexpired; entries are
 * only inserted after a signature verified, so filling it takes a valid key and 10 000 signed calls within 6 min.
 * Throws GatewayError INVALID_ARGUMENT for a non-positive bound or retention.
 */
export function createNonceCache(options: NonceCacheOptions = {}): NonceCache {
  const maxEntries = requirePositiveInteger("maxEntries", options.maxEntries ?? DEFAULT_NONCE_CACHE_MAX_ENTRIES);
  const ttlMs = requirePositiveInteger("ttlMs", options.ttlMs ?? DEFAULT_NONCE_TTL_MS);
  const sweepIntervalMs = requirePositiveInteger("sweepIntervalMs", options.sweepIntervalMs ?? DEFAULT_NONCE_SWEEP_INTERVAL_MS);
  const clock = options.clock ?? systemClock;
  /** key -> expiry (epoch ms); Map iteration order is insertion order, so the first key is the oldest. */
  const entries = new Map<string, number>();
  let lastSweepMs = clock.now().getTime();

  const sweepAt = (nowMs: number): number => {
    lastSweepMs = nowMs;
    let dropped = 0;
    for (const [key, expiresAt] of entries) {
      if (expiresAt <= nowMs) {
        entries.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  };

  return {
    has(key) {
      const expiresAt = entries.get(key);
      return expiresAt !== undefined && expiresAt > clock.now().getTime();
    },
    add(key) {
      const nowMs = clock.now().getTime();
      if (nowMs - lastSweepMs >= sweepIntervalMs) sweepAt(nowMs);
      entries.delete(key);
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
      entries.set(key, nowMs + ttlMs);
    },
    sweep() {
      return sweepAt(clock.now().getTime());
    },
    get size() {
      return entries.size;
    },
  };
}
