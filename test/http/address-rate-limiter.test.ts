// ABOUTME: The per-address sliding-window limit of the link routes: budget per address, sliding window, rejected
// ABOUTME: requests not counted, and the bounded table forgetting the address touched longest ago.
import { describe, expect, it } from "vitest";
import { createAddressRateLimiter } from "../../src/http/address-rate-limiter.js";
import { createManualClock } from "../store/temp-database.js";

describe("createAddressRateLimiter", () => {
  it("allows 60 requests per address within a sliding minute, without counting the refused ones", () => {
    const clock = createManualClock("2025-03-01T12:00:00.000Z");
    const limiter = createAddressRateLimiter({ clock });
    for (let i = 0; i < 30; i += 1) expect(limiter.tryAcquire("10.0.0.1")).toBe(true);
    clock.set("2025-03-01T12:00:30.000Z");
    for (let i = 0; i < 30; i += 1) expect(limiter.tryAcquire("10.0.0.1")).toBe(true);
    expect(limiter.tryAcquire("10.0.0.1")).toBe(false);
    expect(limiter.tryAcquire("10.0.0.2")).toBe(true);
    clock.set("2025-03-01T12:00:59.999Z");
    expect(limiter.tryAcquire("10.0.0.1")).toBe(false);
    clock.set("2025-03-01T12:01:00.000Z");
    for (let i = 0; i < 30; i += 1) expect(limiter.tryAcquire("10.0.0.1")).toBe(true);
    expect(limiter.tryAcquire("10.0.0.1")).toBe(false);
  });

  it("tracks a bounded number of addresses, forgetting the one touched longest ago", () => {
    const clock = createManualClock("2025-03-01T12:00:00.000Z");
    const limiter = createAddressRateLimiter({ clock, limit: 1, maxAddresses: 2 });
    expect(limiter.tryAcquire("a")).toBe(true);
    expect(limiter.tryAcquire("b")).toBe(true);
    expect(limiter.tryAcquire("a")).toBe(false);
    expect(limiter.tryAcquire("c")).toBe(true);
    expect(limiter.tryAcquire("b")).toBe(true);
    expect(limiter.tryAcquire("a")).toBe(true);
  });
});
