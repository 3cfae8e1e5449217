// ABOUTME: `npm run bench` flags: results are written only with --write or --out, and a FAIL verdict exits 1
// ABOUTME: unless --no-fail.
import { describe, expect, it } from "vitest";
import { benchExitCode, parseBenchArgs, runs } from "../../bench/bench-args.js";

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

describe("bench figure selection", () => {
  it("runs every figure by default and only the named ones with --only", () => {
    expect(runs(parse(), "soak")).toBe(true);
    const only = parse("--only", "throughput,soak");
    expect(runs(only, "throughput")).toBe(true);
    expect(runs(only, "scale")).toBe(false);
    expect(() => parse("--only", "throughput,nope")).toThrow("unknown figure: nope");
  });

  it("shrinks the issue-10 figures with --quick and fixes the soak rate with --soak-rate", () => {
    const full = parse();
    expect(full.throughput).toMatchObject({ agents: 100, clients: 200, durationMs: 20_000 });
    expect(full.scale.agents).toBe(20_000);
    expect(full.replayEvents).toBe(100_000);
    expect(full.soak.turns).toBe(500_000);
    const quick = parse("--quick", "--soak-rate", "300");
    expect(quick.quick).toBe(true);
    expect(quick.throughput.durationMs).toBeLessThan(full.throughput.durationMs);
    expect(quick.soak).toMatchObject({ turns: 10_000, rate: 300 });
    expect(() => parse("--soak-rate", "0")).toThrow("--soak-rate needs a positive number");
  });
});
