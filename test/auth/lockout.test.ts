// ABOUTME: Tests brute-force lockout (auth.md §14a): threshold, sliding window, duration, exemptions, bounds, logs.
// ABOUTME: Time moves through an injected clock.
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/lib/clock.js";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { addressFromPeer, createLockout, isLoopbackAddress, type LockoutOptions } from "../../src/auth/lockout.js";

function manualClock(ms = 1_700_000_000_000): Clock & { ms: number } {
  return {
    ms,
    now() {
      return new Date(this.ms);
    },
  };
}

function setup(options: LockoutOptions = {}) {
  const clock = manualClock();
  const log = createMemoryLogger();
  const lockout = createLockout({ clock, log, ...options });
  const fail = (address: string, times = 1) => {
    for (let i = 0; i < times; i += 1) lockout.recordFailure(address);
  };
  return { clock, log, lockout, fail };
}

function checkMessage(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    expect(isGatewayError(err, "RESOURCE_EXHAUSTED")).toBe(true);
    return (err as Error).message;
  }
}

describe("createLockout", () => {
  it("locks an address on the 10th failure within a minute, for 5 minutes", () => {
    const { clock, lockout, fail } = setup();
    fail("10.0.0.1", 9);
    expect(checkMessage(() => lockout.check("10.0.0.1"))).toBeUndefined();
    fail("10.0.0.1");
    expect(checkMessage(() => lockout.check("10.0.0.1"))).toBe("too many failed authentication attempts; retry in 300s");
    expect(checkMessage(() => lockout.check("10.0.0.2"))).toBeUndefined();
    clock.ms += 13_500;
    expect(checkMessage(() => lockout.check("10.0.0.1"))).toBe("too many failed authentication attempts; retry in 287s");
    expect(lockout.retryAfterSeconds("10.0.0.1")).toBe(287);
    clock.ms += 286_499;
    expect(lockout.retryAfterSeconds("10.0.0.1")).toBe(1);
    clock.ms += 1;
    expect(lockout.retryAfterSeconds("10.0.0.1")).toBe(0);
    expect(checkMessage(() => lockout.check("10.0.0.1"))).toBeUndefined();
  });

  it("starts counting afresh after a lock ends", () => {
    const { clock, lockout, fail } = setup();
    fail("a", 10);
    clock.ms += 300_000;
    fail("a", 9);
    expect(lockout.retryAfterSeconds("a")).toBe(0);
    fail("a");
    expect(lockout.retryAfterSeconds("a")).toBe(300);
  });

  it("counts failures in a sliding window", () => {
    const { clock, lockout, fail } = setup();
    fail("a", 9);
    clock.ms += 60_000;
    fail("a");
    expect(lockout.retryAfterSeconds("a")).toBe(0);
    clock.ms += 30_000;
    fail("a", 8);
    expect(lockout.retryAfterSeconds("a")).toBe(0);
    fail("a");
    expect(lockout.retryAfterSeconds("a")).toBe(300);
  });

  it("does not let a success erase earlier failures", () => {
    const { lockout, fail } = setup();
    fail("a", 9);
    lockout.recordSuccess("a");
    fail("a");
    expect(lockout.retryAfterSeconds("a")).toBe(300);
  });

  it("is disabled by maxFailures 0", () => {
    const { lockout, fail } = setup({ maxFailures: 0 });
    fail("a", 100);
    expect(lockout.retryAfterSeconds("a")).toBe(0);
    expect(lockout.stats()).toEqual({ lockouts: 0, trackedAddresses: 0 });
  });

  it("locks loopback unless exemptLoopback is set", () => {
    const strict = setup();
    strict.fail("127.0.0.1", 10);
    expect(strict.lockout.retryAfterSeconds("127.0.0.1")).toBe(300);
    const lenient = setup({ exemptLoopback: true });
    for (const address of ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"]) {
      lenient.fail(address, 10);
      expect(lenient.lockout.retryAfterSeconds(address)).toBe(0);
    }
    lenient.fail("192.168.1.5", 10);
    expect(lenient.lockout.retryAfterSeconds("192.168.1.5")).toBe(300);
  });

  it("logs a warning and counts each lockout once", () => {
    const { lockout, log, fail } = setup();
    fail("10.1.1.1", 15);
    const warnings = log.entries.filter((entry) => entry.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.attrs.address).toBe("10.1.1.1");
    expect(lockout.stats().lockouts).toBe(1);
  });

  it("honours custom thresholds", () => {
    const { clock, lockout, fail } = setup({ maxFailures: 2, windowMs: 1_000, durationMs: 2_000 });
    fail("a", 2);
    expect(lockout.retryAfterSeconds("a")).toBe(2);
    clock.ms += 2_000;
    expect(lockout.retryAfterSeconds("a")).toBe(0);
  });

  it("forgets addresses whose failures aged out", () => {
    const { clock, lockout, fail } = setup();
    fail("a");
    fail("b");
    clock.ms += 60_000;
    fail("c");
    expect(lockout.stats().trackedAddresses).toBe(1);
  });

  it("stays bounded, evicting the oldest unlocked address first", () => {
    const { lockout, fail } = setup({ maxFailures: 2, maxEntries: 3 });
    fail("locked", 2);
    fail("a");
    fail("b");
    fail("c");
    expect(lockout.stats().trackedAddresses).toBe(3);
    expect(lockout.retryAfterSeconds("locked")).toBe(300);
    fail("a");
    expect(lockout.retryAfterSeconds("a")).toBe(0);
    fail("c");
    expect(lockout.retryAfterSeconds("c")).toBe(300);
  });

  it("evicts the oldest locked address only when every tracked address is locked", () => {
    const { lockout, fail } = setup({ maxFailures: 1, maxEntries: 2 });
    fail("x");
    fail("y");
    fail("z");
    expect(lockout.stats().trackedAddresses).toBe(2);
    expect(["x", "y", "z"].map((a) => lockout.retryAfterSeconds(a))).toEqual([0, 300, 300]);
  });

  it("refuses nonsensical options", () => {
    expect(() => createLockout({ maxFailures: -1 })).toThrow(/maxFailures/);
    expect(() => createLockout({ windowMs: 0 })).toThrow(/windowMs/);
    expect(() => createLockout({ durationMs: 1.5 })).toThrow(/durationMs/);
  });
});

describe("address helpers", () => {
  it("recognises loopback addresses", () => {
    for (const address of ["127.0.0.1", "127.255.0.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
    for (const address of ["128.0.0.1", "10.0.0.1", "::2", "::ffff:10.0.0.1", "localhost", ""]) {
      expect(isLoopbackAddress(address), address).toBe(false);
    }
  });

  it("strips ports and gRPC peer prefixes", () => {
    expect(addressFromPeer("ipv4:10.0.0.1:5000")).toBe("10.0.0.1");
    expect(addressFromPeer("ipv6:[::1]:5000")).toBe("::1");
    expect(addressFromPeer("10.0.0.1:5000")).toBe("10.0.0.1");
    expect(addressFromPeer("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(addressFromPeer("2001:db8::1")).toBe("2001:db8::1");
    expect(addressFromPeer("10.0.0.1")).toBe("10.0.0.1");
  });
});
