// ABOUTME: `get_time`'s output: the instant as RFC 3339 with the zone's own offset, the zone, and unix milliseconds.
// ABOUTME: Unknown zones fail with `unknown timezone: <tz>`.

/** `{"iso","timezone","unix_ms"}` for `at` in IANA zone `timezone`. Throws Error `unknown timezone: <tz>`. */
export function timeIn(timezone: string, at: Date): { iso: string; timezone: string; unix_ms: number } {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  } catch (err) {
    throw new Error(`unknown timezone: ${timezone}`, { cause: err });
  }
  const part = (type: string) => format.formatToParts(at).find((p) => p.type === type)?.value ?? "00";
  const ms = String(at.getUTCMilliseconds()).padStart(3, "0");
  const local = `${part("year")}-${part("month")}-${part("day")}T${part("hour")}:${part("minute")}:${part("second")}`;
  const wall = Date.UTC(+part("year"), +part("month") - 1, +part("day"), +part("hour"), +part("minute"), +part("second"));
  const offsetMinutes = Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const offset = offsetMinutes === 0 ? "Z" : `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return { iso: `${local}.${ms}${offset}`, timezone, unix_ms: at.getTime() };
}
