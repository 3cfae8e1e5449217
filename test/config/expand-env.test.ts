// ABOUTME: Tests `${VAR}` expansion over raw text: set, unset, empty, comments, no defaults, single pass.
// ABOUTME: The loader-level behaviour (warnings, YAML quoting) is tested in load-config.test.ts.

import { describe, expect, it } from "vitest";
import { expandEnv, placeholderNames } from "../../src/config/expand-env.js";

describe("expandEnv", () => {
  it("replaces set variables and reports unset or empty ones once each, in order", () => {
    const result = expandEnv("a: ${A}\nb: ${B}\nc: ${C}\nd: ${B}", { A: "1", C: "" });
    expect(result.text).toBe("a: 1\nb: \nc: \nd: ");
    expect(result.unset).toEqual(["B", "C"]);
  });

  it("expands inside comments too", () => {
    expect(expandEnv("# ${A}\nx: 1", { A: "hi" }).text).toBe("# hi\nx: 1");
  });

  it("has no default syntax: ${A:-b} looks up the name `A:-b`", () => {
    const result = expandEnv("x: ${A:-b}", { A: "set" });
    expect(result.text).toBe("x: ");
    expect(result.unset).toEqual(["A:-b"]);
  });

  it("leaves $VAR without braces alone and does not trim names", () => {
    const result = expandEnv("x: $A ${ A }", { A: "1", " A ": "2" });
    expect(result.text).toBe("x: $A 2");
  });

  it("expands exactly once: inserted values are not expanded again", () => {
    expect(expandEnv("x: ${A}", { A: "${B}", B: "no" }).text).toBe("x: ${B}");
  });

  it("inserts values verbatim, even `$&` replacement patterns", () => {
    expect(expandEnv("x: ${A}", { A: "$&$1" }).text).toBe("x: $&$1");
  });

  it("does not see inherited properties of a plain env object", () => {
    expect(expandEnv("x: ${constructor}", {}).unset).toEqual(["constructor"]);
  });
});

describe("placeholderNames", () => {
  it("lists every placeholder name", () => {
    expect(placeholderNames("${A}x${B}${A}")).toEqual(["A", "B", "A"]);
    expect(placeholderNames("plain")).toEqual([]);
  });
});
