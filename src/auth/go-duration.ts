// ABOUTME: Renders a duration the way Go's time.Duration.String does (e.g. "6m0.25s", "1h0m0s", "250ms").
// ABOUTME: Some auth error texts embed Go durations because peers were written against the Go gateway.

const NS_PER_US = 1_000n;
const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
/** Go durations are int64 nanoseconds; larger magnitudes saturate, as time.Since does. */
const MAX_NS = 2n ** 63n - 1n;
const MIN_NS = -(2n ** 63n);

/** `whole` plus a fraction of `unit` with trailing zeros removed: (1500, 1000) -> "1.5". */
function withFraction(value: bigint, unit: bigint, digits: number): string {
  const whole = value / unit;
  const fraction = value % unit;
  if (fraction === 0n) return whole.toString();
  return `${whole}.${fraction.toString().padStart(digits, "0").replace(/0+$/, "")}`;
}

/** Formats nanoseconds like Go's `time.Duration.String()`, saturating at the int64 range. */
export function formatGoDuration(nanoseconds: bigint): string {
  const clamped = nanoseconds > MAX_NS ? MAX_NS : nanoseconds < MIN_NS ? MIN_NS : nanoseconds;
  if (clamped === 0n) return "0s";
  const sign = clamped < 0n ? "-" : "";
  const ns = clamped < 0n ? -clamped : clamped;
  if (ns < NS_PER_US) return `${sign}${ns}ns`;
  if (ns < NS_PER_MS) return `${sign}${withFraction(ns, NS_PER_US, 3)}µs`;
  if (ns < NS_PER_S) return `${sign}${withFraction(ns, NS_PER_MS, 6)}ms`;
  const totalSeconds = ns / NS_PER_S;
  const hours = totalSeconds / 3600n;
  const minutes = (totalSeconds / 60n) % 60n;
  const seconds = `${withFraction(ns % (60n * NS_PER_S), NS_PER_S, 9)}s`;
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

/** Formats milliseconds (a number is truncated to an integer) like Go's `time.Duration.String()`. */
export function formatGoDurationMs(milliseconds: bigint | number): string {
  const ms = typeof milliseconds === "bigint" ? milliseconds : BigInt(Math.trunc(milliseconds));
  return formatGoDuration(ms * NS_PER_MS);
}
