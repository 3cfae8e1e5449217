// ABOUTME: The logger interface every module receives, plus text/JSON implementations.
// ABOUTME: Attributes are plain key/value pairs; the format follows shared/spec/cli.md §2.1; every line is redacted (ops.md §6).
import { redactAttrs, redactText } from "./log-redaction.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogAttrs = Record<string, unknown>;

/** Structured logger handed down to every module. */
export interface Logger {
  debug(msg: string, attrs?: LogAttrs): void;
  info(msg: string, attrs?: LogAttrs): void;
  warn(msg: string, attrs?: LogAttrs): void;
  error(msg: string, attrs?: LogAttrs): void;
  child(attrs: LogAttrs): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SHORT: Record<LogLevel, string> = { debug: "DBG", info: "INF", warn: "WRN", error: "ERR" };

export interface LoggerOptions {
  level: LogLevel;
  format: "text" | "json";
  write?: (line: string) => void;
  /** Values that never appear in a line (auth.jwt_secret, metrics.token): replaced by `[redacted]` wherever found. */
  secrets?: readonly string[];
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) || value === "" ? JSON.stringify(value) : value;
  if (typeof value === "bigint") return value.toString();
  return JSON.stringify(value) ?? "undefined";
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Creates a logger writing text (`HH:MM:SS LVL msg k=v`) or JSON lines to stdout (or `write`). */
export function createLogger(options: LoggerOptions, base: LogAttrs = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const min = ORDER[options.level];
  const secrets = (options.secrets ?? []).filter((s) => s !== "");
  const emit = (level: LogLevel, rawMsg: string, attrs?: LogAttrs) => {
    if (ORDER[level] < min) return;
    const msg = redactText(rawMsg, secrets);
    // ops.md §6: an error is `err` {type, message, stack} (stack at error only); `cause` is our call sites' name for it.
    const all = redactAttrs(errorsAsErr({ ...base, ...attrs }), secrets, level === "error");
    if (options.format === "json") {
      write(JSON.stringify({ time: new Date().toISOString(), level: level.toUpperCase(), msg, ...all }));
      return;
    }
    const d = new Date();
    const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    const kv = Object.entries(all).map(([k, v]) => `${k}=${renderValue(k === "err" && isErrShape(v) ? v.message : v)}`);
    write([time, SHORT[level], msg, ...kv].join(" "));
  };
  return {
    debug: (m, a) => emit("debug", m, a),
    info: (m, a) => emit("info", m, a),
    warn: (m, a) => emit("warn", m, a),
    error: (m, a) => emit("error", m, a),
    child: (attrs) => createLogger(options, { ...base, ...attrs }),
  };
}

/** Renames an Error under `cause` to `err` (an `err` already present wins). */
function errorsAsErr(attrs: LogAttrs): LogAttrs {
  const cause = attrs.cause;
  if (!(cause instanceof Error) || "err" in attrs) return attrs;
  const { cause: _cause, ...rest } = attrs;
  return { ...rest, err: cause };
}

function isErrShape(value: unknown): value is { message: string } {
  return typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string";
}

/** A logger that discards everything (tests that do not inspect logs). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

/** A logger that records entries in memory, for tests that assert on logs. */
export function createMemoryLogger(): Logger & { entries: Array<{ level: LogLevel; msg: string; attrs: LogAttrs }> } {
  const entries: Array<{ level: LogLevel; msg: string; attrs: LogAttrs }> = [];
  const make = (base: LogAttrs): Logger => ({
    debug: (msg, attrs) => entries.push({ level: "debug", msg, attrs: { ...base, ...attrs } }),
    info: (msg, attrs) => entries.push({ level: "info", msg, attrs: { ...base, ...attrs } }),
    warn: (msg, attrs) => entries.push({ level: "warn", msg, attrs: { ...base, ...attrs } }),
    error: (msg, attrs) => entries.push({ level: "error", msg, attrs: { ...base, ...attrs } }),
    child: (attrs) => make({ ...base, ...attrs }),
  });
  return Object.assign(make({}), { entries });
}
