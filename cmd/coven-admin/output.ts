// ABOUTME: Output pieces shared by coven-admin commands: banner, truncation, dates, aligned tables, JSON, errors.
// ABOUTME: Human formats follow cli.md §3; `--json` prints exactly one document so scripts can pipe it to jq.
import { paint, printError, type CliIo } from "../coven-gateway/cli-io.js";
import { describeFailure, type Connection } from "./connection.js";

export const BANNER = String.raw`
  ___ _____   _____ _ __         __ _  __| |_ __ ___ (_)_ __
 / __/ _ \ \ / / _ \ '_ \ _____ / _\` |/ _\` | '_ \` _ \| | '_ \
| (_| (_) \ V /  __/ | | |_____| (_| | (_| | | | | | | | | | |
 \___\___/ \_/ \___|_| |_|      \__,_|\__,_|_| |_| |_|_|_| |_|
`;

/** Writes the cyan banner to stdout. */
export function printBanner(io: CliIo): void {
  io.stdout.write(paint(io, io.stdout, ["cyan"], BANNER) + "\n");
}

/** Keeps `s` when it fits in `n` characters, else its first n−3 characters and `...` (cli.md §3.5). */
export function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 3) + "...";
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Formats an RFC 3339 time as local `Jan 02 15:04`; an unparsable value is returned as is. */
export function formatCreated(raw: string): string {
  const t = new Date(raw);
  if (raw === "" || Number.isNaN(t.getTime())) return raw;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${MONTHS[t.getMonth()]} ${two(t.getDate())} ${two(t.getHours())}:${two(t.getMinutes())}`;
}

/** Lines of a table indented by two spaces, columns separated by two spaces, the last column unpadded. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => "  " + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join("").trimEnd() + "\n")
    .join("");
}

/** Writes one JSON document and a newline to stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Prints a failed call as `Error: <RPC>: <STATUS>: <detail>` plus its hint on stderr; returns exit code 1. */
export function failCall(io: CliIo, rpc: string, err: unknown, conn: Connection): number {
  const { message, hint } = describeFailure(rpc, err, conn);
  printError(io, message);
  if (hint !== undefined) io.stderr.write(paint(io, io.stderr, ["dim"], hint) + "\n");
  return 1;
}

/** Prints a usage or argument error (`Error: <message>`) and returns exit code 1. */
export function failUsage(io: CliIo, message: string): number {
  printError(io, message);
  return 1;
}
