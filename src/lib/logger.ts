// ABOUTME: The logger interface every module receives, plus text/JSON implementations.
// ABOUTME: Attributes are plain key/value pairs; the format follows shared/spec/cli.md §2.1.

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
}

function renderValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
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
  const emit = (level: LogLevel, msg: string, attrs?: LogAttrs) => {
    if (ORDER[level] < min) return;
    const all = { ...base, ...attrs };
    if (options.format === "json") {
      const record: LogAttrs = { time: new Date().toISOString(), level: level.toUpperCase(), msg };
      for (const [k, v] of Object.entries(all)) record[k] = v instanceof Error ? v.message : typeof v === "bigint" ? v.toString() : v;
      write(JSON.stringify(record));
      return;
    }
    const d = new Date();
    const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    const kv = Object.entries(all).map(([k, v]) => `${k}=${renderValue(v)}`);
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
