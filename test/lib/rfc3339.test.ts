// ABOUTME: Tests strict RFC 3339 parsing and its normalisation to the store's UTC millisecond form.
// ABOUTME: Covers offsets, fractions (rounded per bound), invalid fields and the year clamp.
import { describe, expect, it } from "vitest";
import { parseRfc3339 } from "../../src/lib/rfc3339.js";

describe("parseRfc3339", () => {
  it("normalises to 24-char UTC with milliseconds", () => {
    expect(parseRfc3339("2024-01-15T10:30:00Z")).toBe("2024-01-15T10:30:00.000Z");
    expect(parseRfc3339("2024-01-15T10:30:00.5Z")).toBe("2024-01-15T10:30:00.500Z");
    expect(parseRfc3339("2024-01-15T10:30:00.123+02:00")).toBe("2024-01-15T08:30:00.123Z");
    expect(parseRfc3339("2024-01-01T00:30:00-01:00")).toBe("2024-01-01T01:30:00.000Z");
  });

  it("rounds digits below the millisecond down for until and up for since", () => {
    expect(parseRfc3339("2024-01-15T10:30:00.1231Z", "down")).toBe("2024-01-15T10:30:00.123Z");
    expect(parseRfc3339("2024-01-15T10:30:00.1231Z", "up")).toBe("2024-01-15T10:30:00.124Z");
    expect(parseRfc3339("2024-01-15T10:30:00.123000Z", "up")).toBe("2024-01-15T10:30:00.123Z");
    expect(parseRfc3339("2024-12-31T23:59:59.9999Z", "up")).toBe("2025-01-01T00:00:00.000Z");
  });

  it("rejects what is not an RFC 3339 date-time", () => {
    for (const text of [
      "",
      "2024-01-15",
      "2024-01-15 10:30:00Z",
      "2024-01-15T10:30:00",
      "2024-01-15t10:30:00z",
      "2024-13-01T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-01-15T24:00:00Z",
      "2024-01-15T10:60:00Z",
      "2024-01-15T10:30:60Z",
      "2024-01-15T10:30:00+24:00",
      "2024-01-15T10:30:00.Z",
      "yesterday",
    ]) {
      expect(parseRfc3339(text), text).toBeUndefined();
    }
    expect(parseRfc3339("2024-02-29T00:00:00Z")).toBe("2024-02-29T00:00:00.000Z");
  });

  it("clamps results outside years 0000-9999", () => {
    expect(parseRfc3339("0000-01-01T00:00:00+01:00")).toBe("0000-01-01T00:00:00.000Z");
    expect(parseRfc3339("9999-12-31T23:59:59-01:00")).toBe("9999-12-31T23:59:59.999Z");
  });
});
