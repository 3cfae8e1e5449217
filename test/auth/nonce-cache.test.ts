// ABOUTME: Tests the SSH replay cache: 6 min retention, the bound with oldest-first eviction, the lazy sweep.
// ABOUTME: Uses an injected clock instead of waiting.
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/lib/clock.js";
import { createNonceCache } from "../../src/auth/nonce-cache.js";

function manualClock(ms = 1_000_000): Clock & { ms: number } {
  return {
    ms,
    now() {
      return new Date(this.ms);
    },
  };
}

describe("createNonceCache", () => {
  it("remembers a key for 6 minutes from insertion", () => {
    const clock = manualClock();
    const cache = createNonceCache({ clock });
    expect(cache.has("k")).toBe(false);
    cache.add("k");
    clock.ms += 359_999;
    expect(cache.has("k")).toBe(true);
    clock.ms += 1;
    expect(cache.has("k")).toBe(false);
  });

  it("evicts the oldest insertion when full (auth.md §5.1)", () => {
    const cache = createNonceCache({ clock: manualClock(), maxEntries: 3 });
    for (const key of ["a", "b", "c", "d"]) cache.add(key);
    expect(cache.size).toBe(3);
    expect(["a", "b", "c", "d"].map((key) => cache.has(key))).toEqual([false, true, true, true]);
  });

  it("defaults to 10 000 entries", () => {
    const cache = createNonceCache({ clock: manualClock() });
    for (let i = 0; i <= 10_000; i += 1) cache.add(`k${i}`);
    expect(cache.size).toBe(10_000);
    expect(cache.has("k0")).toBe(false);
    expect(cache.has("k1")).toBe(true);
  });

  it("sweeps expired entries at most once a minute, on insert", () => {
    const clock = manualClock();
    const cache = createNonceCache({ clock });
    cache.add("old");
    clock.ms += 6 * 60_000;
    cache.add("new");
    expect(cache.size).toBe(1);
    cache.add("newer");
    clock.ms += 6 * 60_000;
    expect(cache.size).toBe(2);
    expect(cache.sweep()).toBe(2);
    expect(cache.size).toBe(0);
  });

  it("refuses nonsensical options", () => {
    expect(() => createNonceCache({ maxEntries: 0 })).toThrow("maxEntries must be a positive integer");
    expect(() => createNonceCache({ ttlMs: -1 })).toThrow("ttlMs must be a positive integer");
  });
});
