// ABOUTME: Tests the Go time.Duration.String() renderer used in SSH auth error texts.
// ABOUTME: Expected strings are what Go prints for the same durations.
import { describe, expect, it } from "vitest";
import { formatGoDuration, formatGoDurationMs } from "../../src/auth/go-duration.js";

describe("formatGoDuration", () => {
  it("renders sub-second units", () => {
    expect(formatGoDuration(0n)).toBe("0s");
    expect(formatGoDuration(1n)).toBe("1ns");
    expect(formatGoDuration(1_500n)).toBe("1.5µs");
    expect(formatGoDuration(250_000_000n)).toBe("250ms");
    expect(formatGoDuration(1_000_001n)).toBe("1.000001ms");
  });

  it("renders seconds, minutes and hours with trailing zeros trimmed", () => {
    expect(formatGoDurationMs(1_500)).toBe("1.5s");
    expect(formatGoDurationMs(300_000)).toBe("5m0s");
    expect(formatGoDurationMs(360_250)).toBe("6m0.25s");
    expect(formatGoDurationMs(3_600_000)).toBe("1h0m0s");
    expect(formatGoDuration(2n * 3_600_000_000_000n + 3n * 60_000_000_000n + 4_000_000_005n)).toBe("2h3m4.000000005s");
    expect(formatGoDurationMs(60_000.9)).toBe("1m0s");
  });

  it("renders negatives and saturates at the int64 range", () => {
    expect(formatGoDurationMs(-1_500)).toBe("-1.5s");
    expect(formatGoDuration(10n ** 30n)).toBe("2562047h47m16.854775807s");
    expect(formatGoDuration(-(10n ** 30n))).toBe("-2562047h47m16.854775808s");
  });
});
