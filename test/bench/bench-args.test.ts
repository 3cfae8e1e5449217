// ABOUTME: `npm run bench` flags: results are written only with --write or --out, and a FAIL verdict exits 1
// ABOUTME: unless --no-fail.
import { describe, expect, it } from "vitest";
import { benchExitCode, parseBenchArgs } from "../../bench/bench-args.js";

const parse = (...argv: string[]) => parseBenchArgs(argv, "/repo/bench/RESULTS.md", (p) => `/cwd/${p}`);

describe("bench arguments", () => {
  it("writes no results file by default, bench/RESULTS.md with --write, FILE with --out", () => {
    expect(parse().out).toBeUndefined();
    expect(parse("--quick").out).toBeUndefined();
    expect(parse("--write").out).toBe("/repo/bench/RESULTS.md");
    expect(parse("--out", "r.md").out).toBe("/cwd/r.md");
  });

  it("exits 1 on a FAIL verdict unless --no-fail, 0 when all pass", () => {
    const failing = [{ pass: true }, { pass: false }];
    expect(benchExitCode(failing, parse())).toBe(1);
    expect(benchExitCode(failing, parse("--no-fail"))).toBe(0);
    expect(benchExitCode([{ pass: true }], parse())).toBe(0);
  });

  it("rejects an unknown flag", () => {
    expect(() => parse("--frobnicate")).toThrow("unknown argument: --frobnicate");
  });
});
