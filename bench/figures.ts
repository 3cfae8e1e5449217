// ABOUTME: Pure arithmetic of the issue-10 figures: percentiles, soak windows, RSS drift and the row-count check.
// ABOUTME: No I/O, so test/bench can hold the verdict logic without measuring anything.

/** Nearest-rank percentile of unsorted values (0 for none). */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** p99 of the first and of the last `fraction` of latencies in turn order. */
export function windowP99(latencies: ArrayLike<number>, fraction: number): { first: number; last: number } {
  const n = latencies.length;
  const k = Math.max(1, Math.floor(n * fraction));
  const all = Array.from(latencies);
  return { first: percentile(all.slice(0, k), 99), last: percentile(all.slice(n - k), 99) };
}

/** One RSS reading of the soak: ms since the measured phase began, KiB. */
export interface RssSample {
  atMs: number;
  kib: number;
}

/**
 * RSS drift after warm-up: the median reading of the window [warmup, 2·warmup) of the run against the median of its
 * last `warmup` fraction, as a fraction of the former (0.05 = grew 5 %). `warmup` is a fraction of the run's time.
 */
export function rssDrift(samples: RssSample[], totalMs: number, warmup: number): { baselineKib: number; endKib: number; drift: number } {
  const med = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length === 0 ? 0 : s[Math.floor((s.length - 1) / 2)]!;
  };
  const inWindow = (from: number, to: number) => samples.filter((s) => s.atMs >= from * totalMs && s.atMs < to * totalMs).map((s) => s.kib);
  const baselineKib = med(inWindow(warmup, 2 * warmup));
  const endKib = med(inWindow(1 - warmup, 1.01));
  return { baselineKib, endKib, drift: baselineKib === 0 ? 0 : endKib / baselineKib - 1 };
}

/** Rows of one direction counted in SQLite after the soak. */
export interface RowCount {
  rows: number;
  distinct: number;
}

/** Lost and duplicated rows given `expected` turns: lost = expected − distinct (never below 0), dup = rows − distinct. */
export function rowCheck(expected: number, count: RowCount): { lost: number; duplicated: number } {
  return { lost: Math.max(0, expected - count.distinct), duplicated: count.rows - count.distinct };
}

/** A verdict: `value / floor` against `limit`, `atMost` (≤) or at least (≥). A zero floor fails. */
export function ratioVerdict(value: number, floor: number, limit: number, direction: "atMost" | "atLeast"): { ratio: number; pass: boolean } {
  const ratio = floor > 0 ? value / floor : Number.POSITIVE_INFINITY;
  const pass = floor > 0 && Number.isFinite(ratio) && (direction === "atMost" ? ratio <= limit : ratio >= limit);
  return { ratio, pass };
}
