// ABOUTME: A strict parser of the Prometheus text exposition format 0.0.4 for tests: rejects anything malformed.
// ABOUTME: Checks HELP/TYPE order, sample names per family type, label syntax and escapes, values, histogram shape.

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function fail(line: number, why: string): never {
  throw new Error(`exposition line ${line}: ${why}`);
}

function parseValue(text: string, line: number): number {
  // Prometheus reads values with Go's ParseFloat, which takes Inf and NaN in any case (prom-client writes "Nan").
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text)) fail(line, `bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `text[0] === "{"`; returns labels and the rest after `}`. */
function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
  for (;;) {
    const eq = text.indexOf("=", i);
    if (eq < 0) fail(line, "label without =");
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(line, `bad label name ${JSON.stringify(name)}`);
    if (name in labels) fail(line, `duplicate label ${name}`);
    if (text[eq + 1] !== '"') fail(line, "label value not quoted");
    let j = eq + 2;
    let value = "";
    for (;;) {
      const ch = text[j];
      if (ch === undefined) fail(line, "unterminated label value");
      if (ch === '"') break;
      if (ch === "\\") {
        const next = text[j + 1];
        if (next === "\\") value += "\\";
        else if (next === '"') value += '"';
        else if (next === "n") value += "\n";
        else fail(line, "bad escape in label value");
        j += 2;
        continue;
      }
      if (ch === "\n") fail(line, "raw newline in label value");
      value += ch;
      j += 1;
    }
    labels[name] = value;
    j += 1;
    if (text[j] === "}") return { labels, rest: text.slice(j + 1) };
    if (text[j] !== ",") fail(line, "labels not separated by ,");
    i = j + 1;
    if (text[i] === "}") fail(line, "trailing comma in labels");
  }
}

function familyOf(sampleName: string, families: Map<string, Family>, current: Family | undefined): Family | undefined {
  if (current === undefined) return undefined;
  const base = current.name;
  const allowed =
    current.type === "histogram"
      ? [`${base}_bucket`, `${base}_sum`, `${base}_count`]
      : current.type === "summary"
        ? [base, `${base}_sum`, `${base}_count`]
        : [base];
  return allowed.includes(sampleName) ? current : families.get(sampleName);
}

/**
 * Parses a whole exposition. Throws on: missing final newline, whitespace-only or unknown comment lines, TYPE
 * after samples or twice, samples outside their family's block, bad names/labels/values, duplicate series, and
 * histograms whose buckets are not cumulative, lack `+Inf`, or disagree with `_count`.
 */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  let current: Family | undefined;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((raw, index) => {
    const line = index + 1;
    // The format ignores empty lines (prom-client separates families with one); whitespace-only lines are errors.
    if (raw === "") return;
    if (raw.trim() === "") fail(line, "whitespace-only line");
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([^ ]+) ?(.*)$/.exec(raw);
      if (!m) fail(line, `bad comment ${JSON.stringify(raw)}`);
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) fail(line, `bad metric name ${name}`);
      let family = families.get(name);
      if (family === undefined) {
        family = { name, type: "untyped", help: "", samples: [] };
        families.set(name, family);
      } else if (family !== current) {
        fail(line, `family ${name} split into several blocks`);
      }
      if (family.samples.length > 0) fail(line, `${kind} after samples of ${name}`);
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) fail(line, `unknown type ${rest}`);
        family.type = rest as MetricType;
      } else {
        family.help = rest;
      }
      current = family;
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (!nameMatch) fail(line, "sample without a name");
    const name = nameMatch[0];
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, line));
    if (!rest.startsWith(" ")) fail(line, "no space before the value");
    const parts = rest.slice(1).split(" ");
    if (parts.length > 2) fail(line, "too many fields");
    const value = parseValue(parts[0] as string, line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(line, "bad timestamp");
    const family = familyOf(name, families, current);
    if (family === undefined || family !== current) fail(line, `sample ${name} outside its family block`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seenSeries.has(key)) fail(line, `duplicate series ${key}`);
    seenSeries.add(key);
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      group.buckets.push([parseValue(le, 0), sample.value]);
    } else if (sample.name.endsWith("_count")) group.count = sample.value;
    else group.sum = sample.value;
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.length === 0 || sorted[sorted.length - 1]![0] !== Number.POSITIVE_INFINITY) {
      throw new Error(`${family.name}${key}: no +Inf bucket`);
    }
    for (let i = 1; i < sorted.length; i += 1) {
      if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    if (group.count === undefined || group.sum === undefined) throw new Error(`${family.name}${key}: missing _count or _sum`);
    if (sorted[sorted.length - 1]![1] !== group.count) throw new Error(`${family.name}${key}: +Inf bucket differs from _count`);
  }
}

/** The value of one series (labels must match exactly); 0 when the series is absent. */
export function valueOf(families: Map<string, Family>, sampleName: string, labels: Record<string, string> = {}): number {
  const familyName = sampleName.replace(/_(bucket|sum|count)$/, "");
  const family = families.get(sampleName) ?? families.get(familyName);
  if (!family) throw new Error(`no family for ${sampleName}`);
  const want = JSON.stringify(Object.entries(labels).sort());
  const sample = family.samples.find((s) => s.name === sampleName && JSON.stringify(Object.entries(s.labels).sort()) === want);
  return sample?.value ?? 0;
}
