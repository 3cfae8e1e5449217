// ABOUTME: The one token bucket of ops.md §2: burst then refusal with the time to the next token, continuous refill,
// ABOUTME: refusals take nothing, rate 0 disables, and the key table stays bounded (full buckets dropped first).
import { describe, expect, it } from "vitest";
import { TokenBucketFamily } from "../../src/ops/token-bucket.js";

function family(rate: number, burst: number, maxKeys?: number) {
  let now = 1_000_000;
  const buckets = new TokenBucketFamily({ rate, burst }, { now: () => now, ...(maxKeys === undefined ? {} : { maxKeys }) });
  return { buckets, advance: (ms: number) => void (now += ms) };
}

describe("TokenBucketFamily", () => {
  it("grants burst takes, then refuses with the wait until one token, and a refusal takes nothing", () => {
    const { buckets, advance } = family(2, 3);
    expect([buckets.take("k"), buckets.take("k"), buckets.take("k")]).toEqual([0, 0, 0]);
    expect(buckets.take("k")).toBe(500);
    advance(200);
    expect(buckets.take("k")).toBe(300);
    advance(300);
    expect(buckets.take("k")).toBe(0);
    expect(buckets.take("k")).toBe(500);
  });

  it("refills continuously up to burst only", () => {
    const { buckets, advance } = family(10, 2);
    buckets.take("k");
    buckets.take("k");
    advance(60_000);
    expect([buckets.take("k"), buckets.take("k"), buckets.take("k")]).toEqual([0, 0, 100]);
  });

  it("keeps keys apart and treats rate 0 as disabled", () => {
    const { buckets } = family(1, 1);
    expect([buckets.take("a"), buckets.take("b"), buckets.take("a")]).toEqual([0, 0, 1000]);
    const off = family(0, 1).buckets;
    expect(off.isEnabled).toBe(false);
    for (let i = 0; i < 100; i += 1) expect(off.take("a")).toBe(0);
    expect(off.size).toBe(0);
  });

  it("drops a full bucket before the least recently used one when the table is full", () => {
    const { buckets, advance } = family(1, 10, 3);
    for (let i = 0; i < 10; i += 1) buckets.take("drained"); // oldest, empty
    advance(1);
    buckets.take("full"); // 9 left, full again after a second
    advance(1_000);
    buckets.take("other");
    expect(buckets.size).toBe(3);
    buckets.take("new");
    expect(buckets.size).toBe(3);
    // "drained" (least recently used, 1 token refilled) was kept: the full bucket went instead.
    expect(buckets.take("drained")).toBe(0);
    expect(buckets.take("drained")).toBeGreaterThan(0);
  });
});
