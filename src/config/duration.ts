// ABOUTME: Parses Go duration syntax (`30s`, `1m30s`, `1.5h`, `300ms`) into milliseconds.
// ABOUTME: Mirrors Go's time.ParseDuration so reference config files keep their meaning.

const NS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3, // U+00B5 MICRO SIGN
  "\u03bcs": 1e3, // U+03BC GREEK SMALL LETTER MU
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's int64 nanosecond ceiling: larger durations are invalid there, so they are here too. */
const MAX_NS = 9223372036854775807;

function quote(text: string): string {
  return JSON.stringify(text);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * Parses a Go duration string and returns milliseconds (possibly fractional, possibly negative).
 * A bare `0` (optionally signed) is allowed; anything else needs units `ns us µs ms s m h`.
 * Throws a plain Error with Go's text minus its `time: ` prefix:
 * `invalid duration "<v>"`, `missing unit in duration "<v>"`, `unknown unit "<u>" in duration "<v>"`.
 */
export function parseDuration(text: string): number {
  const invalid = () => new Error(`invalid duration ${quote(text)}`);
  let s = text;
  let negative = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    negative = s.startsWith("-");
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw invalid();

  let totalNs = 0;
  while (s !== "") {
    if (!(s[0] === "." || isDigit(s[0]))) throw invalid();
    let i = 0;
    while (isDigit(s[i])) i++;
    const intPart = s.slice(0, i);
    s = s.slice(i);
    let fracPart = "";
    if (s.startsWith(".")) {
      s = s.slice(1);
      let j = 0;
      while (isDigit(s[j])) j++;
      fracPart = s.slice(0, j);
      s = s.slice(j);
    }
    if (intPart === "" && fracPart === "") throw invalid();

    let u = 0;
    while (u < s.length && s[u] !== "." && !isDigit(s[u])) u++;
    if (u === 0) throw new Error(`missing unit in duration ${quote(text)}`);
    const unit = s.slice(0, u);
    s = s.slice(u);
    const scale = NS_PER_UNIT[unit];
    if (scale === undefined) throw new Error(`unknown unit ${quote(unit)} in duration ${quote(text)}`);

    // Whole and fractional parts scaled separately, so `0.07s` is exactly 70 ms.
    const whole = intPart === "" ? 0 : Number(intPart) * scale;
    const fraction = fracPart === "" ? 0 : (Number(fracPart) * scale) / 10 ** fracPart.length;
    totalNs += whole + fraction;
    if (!Number.isFinite(totalNs) || totalNs > MAX_NS) throw invalid();
  }
  const ms = totalNs / 1e6;
  return negative ? -ms : ms;
}
