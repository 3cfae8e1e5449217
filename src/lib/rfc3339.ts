// ABOUTME: Strict RFC 3339 timestamp parsing, normalised to the store's 24-char UTC millisecond form.
// ABOUTME: Used for the inclusive `since`/`until` filters of GetEvents and HTTP history.

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const MIN = "0000-01-01T00:00:00.000Z";
const MAX = "9999-12-31T23:59:59.999Z";

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Parses an RFC 3339 date-time (`T` and `Z` upper case, as Go's time.RFC3339 accepts) and returns it as
 * `YYYY-MM-DDTHH:mm:ss.sssZ` in UTC, or `undefined` when the text is not one. Digits below the millisecond are
 * rounded `up` for an inclusive lower bound (`since`: no earlier instant matches) or `down` for an inclusive
 * upper bound (`until`: no later instant matches).
 * Results outside years 0000–9999 are clamped so string order stays time order.
 */
export function parseRfc3339(text: string, round: "up" | "down" = "down"): string | undefined {
  const m = RFC3339_RE.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = m[7] ?? "";
  const zone = m[8] as string;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om);
  }
  let millis = Number(fraction.slice(0, 3).padEnd(3, "0"));
  if (round === "up" && /[1-9]/.test(fraction.slice(3))) millis += 1;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const ms = date.getTime() - offsetMinutes * 60_000;
  if (ms < Date.parse(MIN)) return MIN;
  if (ms > Date.parse(MAX)) return MAX;
  return new Date(ms).toISOString();
}
