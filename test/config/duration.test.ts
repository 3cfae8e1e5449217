// ABOUTME: Tests the Go-syntax duration parser against Go's time.ParseDuration behaviour.
// ABOUTME: Covers the spec's examples (1m30s, 1.5h, 300ms, bare 0) and its exact error texts.

import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/config/duration.js";

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["300ms", 300],
    ["0", 0],
    ["-0", 0],
    ["+5s", 5_000],
    ["2h45m", 9_900_000],
    [".5s", 500],
    ["1.s", 1_000],
    ["1500us", 1.5],
    ["1500\u00b5s", 1.5],
    ["1500\u03bcs", 1.5],
    ["2000000ns", 2],
    ["0s", 0],
    ["5m", 300_000],
    ["0.07s", 70],
    ["1.1s", 1_100],
  ])("parses %s as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it("returns negative values (validation rejects them later)", () => {
    expect(parseDuration("-30s")).toBe(-30_000);
  });

  it("rejects a number without a unit with Go's message", () => {
    expect(() => parseDuration("30")).toThrow(new Error('missing unit in duration "30"'));
    expect(() => parseDuration("1h30")).toThrow(new Error('missing unit in duration "1h30"'));
    expect(() => parseDuration("1..5s")).toThrow(new Error('missing unit in duration "1..5s"'));
  });

  it("rejects unknown units", () => {
    expect(() => parseDuration("5d")).toThrow(new Error('unknown unit "d" in duration "5d"'));
    expect(() => parseDuration("5 s")).toThrow(new Error('unknown unit " s" in duration "5 s"'));
  });

  it.each(["", "-", "s", ".s", "abc", ".", "9999999999h"])("rejects %j as an invalid duration", (text) => {
    expect(() => parseDuration(text)).toThrow(new Error(`invalid duration ${JSON.stringify(text)}`));
  });
});
