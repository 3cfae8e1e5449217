// ABOUTME: Brute-force protection (auth.md §14a): too many failed authentications from one address lock it out.
// ABOUTME: In memory, bounded (oldest unlocked entry evicted first), injectable clock, a warn log per lockout.
import { isIPv4, isIPv6 } from "node:net";
import { systemClock, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import { createWarnLimiter } from "../lib/warn-limiter.js";

export const DEFAULT_LOCKOUT_MAX_FAILURES = 10;
export const DEFAULT_LOCKOUT_WINDOW_MS = 60_000;
export const DEFAULT_LOCKOUT_DURATION_MS = 300_000;
export const DEFAULT_LOCKOUT_MAX_ENTRIES = 10_000;

export interface LockoutOptions {
  /** Failures within the window that lock the address; 0 disables the lockout. */
  maxFailures?: number;
  windowMs?: number;
  durationMs?: number;
  /** Exempt 127.0.0.0/8 and ::1 (also IPv4-mapped). */
  exemptLoopback?: boolean;
  /** Addresses tracked at once. */
  maxEntries?: number;
  clock?: Clock;
  log?: Logger;
}

export interface LockoutStats {
  /** Lockouts since creation (for metrics). */
  lockouts: number;
  /** Addresses currently tracked. */
  trackedAddresses: number;
}

export interface Lockout {
  /**
   * Call before attempting authentication. Throws GatewayError RESOURCE_EXHAUSTED
   * `too many failed authentication attempts; retry in <N>s` while `address` is locked.
   */
  check(address: string): void;
  /** Counts one failed authentication; the failure that reaches the limit locks the address. */
  recordFailure(address: string): void;
  /** Deliberately leaves earlier failures counted (auth.md §14a: a success does not erase them). */
  recordSuccess(address: string): void;
  /** Whole seconds (rounded up) until `address` is unlocked; 0 when it is not locked (HTTP `Retry-After`). */
  retryAfterSeconds(address: string): number;
  stats(): LockoutStats;
}

interface Entry {
  /** Epoch ms of failures still inside the window, oldest first. */
  failures: number[];
  /** Epoch ms when the lock ends; 0 when never locked. */
  lockedUntil: number;
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped?.[1] ?? address;
  if (isIPv4(v4)) return v4.startsWith("127.");
  if (!isIPv6(address)) return false;
  const groups = address.toLowerCase().split(":");
  const last = groups.pop();
  return last === "1" && groups.every((g) => g === "" || /^0+$/.test(g));
}

/**
 * Reduces a peer string to its host so all connections from one machine share a bucket:
 * `ipv4:1.2.3.4:5678`, `ipv6:[::1]:5678`, `1.2.3.4:5678` and `[::1]:5678` become `1.2.3.4` / `::1`.
 */
export function addressFromPeer(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  if (bracketed) return bracketed[1]!;
  const hostPort = /^([^:]+):\d+$/.exec(bare);
  return hostPort ? hostPort[1]! : bare;
}

function requireNumber(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new GatewayError("INVALID_ARGUMENT", `lockout ${name} must be an integer ≥ ${min}`);
  return value;
}

/** Creates the lockout table. Throws GatewayError INVALID_ARGUMENT for a negative or non-integer option. */
export function createLockout(options: LockoutOptions = {}): Lockout {
  const maxFailures = requireNumber("maxFailures", options.maxFailures ?? DEFAULT_LOCKOUT_MAX_FAILURES, 0);
  const windowMs = requireNumber("windowMs", options.windowMs ?? DEFAULT_LOCKOUT_WINDOW_MS, 1);
  const durationMs = requireNumber("durationMs", options.durationMs ?? DEFAULT_LOCKOUT_DURATION_MS, 1);
  const maxEntries = requireNumber("maxEntries", options.maxEntries ?? DEFAULT_LOCKOUT_MAX_ENTRIES, 1);
  const isExemptLoopback = options.exemptLoopback ?? false;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  /** Map order is last-activity order: the first entry is the one touched longest ago. */
  const entries = new Map<string, Entry>();
  let lockouts = 0;
  let lastSweepMs = clock.now().getTime();
  const warns = createWarnLimiter(() => clock.now().getTime());

  const isTracked = (address: string): boolean => maxFailures > 0 && !(isExemptLoopback && isLoopbackAddress(address));
  const isLive = (entry: Entry, nowMs: number): boolean =>
    entry.lockedUntil > nowMs || entry.failures.some((at) => at > nowMs - windowMs);

  const sweep = (nowMs: number): void => {
    lastSweepMs = nowMs;
    for (const [address, entry] of entries) if (!isLive(entry, nowMs)) entries.delete(address);
  };

  const makeRoom = (nowMs: number): void => {
    if (entries.size < maxEntries) return;
    sweep(nowMs);
    if (entries.size < maxEntries) return;
    let victim: string | undefined;
    for (const [address, entry] of entries) {
      if (entry.lockedUntil <= nowMs) {
        victim = address;
        break;
      }
    }
    victim ??= entries.keys().next().value;
    if (victim !== undefined) entries.delete(victim);
  };

  const retryAfterSeconds = (address: string): number => {
    if (!isTracked(address)) return 0;
    const remainingMs = (entries.get(address)?.lockedUntil ?? 0) - clock.now().getTime();
    return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : 0;
  };

  return {
    check(address) {
      const seconds = retryAfterSeconds(address);
      if (seconds > 0) {
        throw new GatewayError("RESOURCE_EXHAUSTED", `too many failed authentication attempts; retry in ${seconds}s`);
      }
    },
    recordFailure(address) {
      if (!isTracked(address)) return;
      const nowMs = clock.now().getTime();
      if (nowMs - lastSweepMs >= windowMs) sweep(nowMs);
      let entry = entries.get(address);
      if (entry === undefined) {
        makeRoom(nowMs);
        entry = { failures: [], lockedUntil: 0 };
      }
      entries.delete(address);
      entries.set(address, entry);
      if (entry.lockedUntil > nowMs) return;
      entry.failures = entry.failures.filter((at) => at > nowMs - windowMs);
      entry.failures.push(nowMs);
      if (entry.failures.length < maxFailures) return;
      entry.lockedUntil = nowMs + durationMs;
      lockouts += 1;
      warns.warn(log, `lockout\u0000${address}`, "address locked out after repeated authentication failures", {
        address,
        failures: entry.failures.length,
        window_ms: windowMs,
        duration_ms: durationMs,
      });
      entry.failures = [];
    },
    recordSuccess() {
      // Intentionally empty: failures age out of the window on their own (auth.md §14a).
    },
    retryAfterSeconds,
    stats() {
      return { lockouts, trackedAddresses: entries.size };
    },
  };
}
