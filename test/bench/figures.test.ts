// ABOUTME: The issue-10 figure arithmetic: nearest-rank percentiles, soak windows, RSS drift, the row check, the
// ABOUTME: ratio verdicts and the agent count that fits under the open-files limit.
import { describe, expect, it } from "vitest";
import { percentile, ratioVerdict, rowCheck, rssDrift, windowP99 } from "../../bench/figures.js";
import { fittingAgents } from "../../bench/scale.js";

describe("bench figures", () => {
  it("takes nearest-rank percentiles of unsorted values", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBe(0);
  });

  it("compares the p99 of the first and last tenth in turn order", () => {
    const latencies = [...Array(90).fill(1), ...Array(10).fill(5)];
    expect(windowP99(latencies, 0.1)).toEqual({ first: 1, last: 5 });
  });

  it("measures RSS drift from the second tenth of the run to the last tenth", () => {
    const samples = Array.from({ length: 100 }, (_, i) => ({ atMs: i * 10, kib: i < 10 ? 50 : i >= 90 ? 121 : 110 }));
    const drift = rssDrift(samples, 1000, 0.1);
    expect(drift.baselineKib).toBe(110);
    expect(drift.endKib).toBe(121);
    expect(drift.drift).toBeCloseTo(0.1);
  });

  it("counts lost and duplicated rows against the turns sent", () => {
    expect(rowCheck(10, { rows: 10, distinct: 10 })).toEqual({ lost: 0, duplicated: 0 });
    expect(rowCheck(10, { rows: 11, distinct: 9 })).toEqual({ lost: 1, duplicated: 2 });
  });

  it("judges ratios at most or at least a limit, and fails on a zero floor", () => {
    expect(ratioVerdict(8, 10, 0.8, "atLeast")).toEqual({ ratio: 0.8, pass: true });
    expect(ratioVerdict(7.9, 10, 0.8, "atLeast").pass).toBe(false);
    expect(ratioVerdict(15, 10, 1.5, "atMost").pass).toBe(true);
    expect(ratioVerdict(16, 10, 1.5, "atMost").pass).toBe(false);
    expect(ratioVerdict(1, 0, 1.5, "atMost").pass).toBe(false);
  });

  it("measures as many agents as fit under the hard fd limit and says so", () => {
    expect(fittingAgents(2_000, 20_000)).toEqual({ agents: 2_000 });
    const capped = fittingAgents(20_000, 20_000);
    expect(capped.agents).toBe(19_744);
    expect(capped.note).toContain("hard open-files limit is 20,000");
  });
});
