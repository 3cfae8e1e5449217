// ABOUTME: Go-flag-style argument parsing for the fake-agent CLI (shared/spec/cli.md §4.1).
// ABOUTME: One or two dashes, `-flag value` or `-flag=value`, bare booleans; errors carry exit code 2.
import { DEFAULT_OPTIONS, type FakeAgentOptions } from "./options.js";

/** The parsed command line: agent options plus the CLI-only flags. */
export type FakeAgentArgs = FakeAgentOptions & { instances: number; scriptPath?: string };

/** A command-line problem (exit 2, as Go's flag package), or a help request (exit 0). */
export class UsageError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = "UsageError";
    this.exitCode = exitCode;
  }
}

type FlagKind = "string" | "list" | "int" | "bool";

interface FlagSpec {
  kind: FlagKind;
  usage: string;
  min?: number;
  apply(args: FakeAgentArgs, value: string | number | boolean): void;
}

const str = (set: (a: FakeAgentArgs, v: string) => void, usage: string): FlagSpec => ({
  kind: "string",
  usage,
  apply: (a, v) => set(a, v as string),
});
const list = (set: (a: FakeAgentArgs, v: string[]) => void, usage: string): FlagSpec => ({
  kind: "list",
  usage,
  apply: (a, v) => set(a, splitList(v as string)),
});
const int = (set: (a: FakeAgentArgs, v: number) => void, min: number, usage: string): FlagSpec => ({
  kind: "int",
  usage,
  min,
  apply: (a, v) => set(a, v as number),
});

const FLAGS: Record<string, FlagSpec> = {
  addr: str((a, v) => (a.addr = v), "gateway gRPC address"),
  name: str((a, v) => (a.name = v), "agent display name"),
  id: str((a, v) => (a.id = v), "agent id"),
  capabilities: list((a, v) => (a.capabilities = v), "comma-separated capabilities"),
  workdir: str((a, v) => (a.workdir = v), "metadata.working_directory"),
  backend: str((a, v) => (a.backend = v), "metadata.backend"),
  workspaces: list((a, v) => (a.workspaces = v), "comma-separated metadata.workspaces"),
  features: list((a, v) => (a.features = v), "comma-separated protocol_features"),
  token: str((a, v) => (a.token = v === "" ? undefined : v), "JWT sent as authorization: Bearer"),
  "ssh-key": str((a, v) => (a.sshKeyPath = v === "" ? undefined : v), "OpenSSH private key file (ed25519 or RSA)"),
  script: str((a, v) => (a.scriptPath = v === "" ? undefined : v), "JSON reply script"),
  chunks: int((a, v) => (a.chunks = v), 1, "echo mode: number of text events"),
  "chunk-delay-ms": int((a, v) => (a.chunkDelayMs = v), 0, "echo mode: delay between chunks"),
  "done-delay-ms": int((a, v) => (a.doneDelayMs = v), 0, "echo mode: delay before done"),
  "heartbeat-ms": int((a, v) => (a.heartbeatMs = v), 0, "heartbeat interval in ms (0 = never)"),
  instances: int((a, v) => (a.instances = v), 1, "number of independent streams"),
  reconnect: { kind: "bool", usage: "reconnect with backoff when the stream ends", apply: (a, v) => (a.reconnect = v as boolean) },
  "events-out": str((a, v) => (a.eventsOut = v === "" ? undefined : v), "JSONL trace file (- = stdout)"),
};

/** Splits a comma list, trimming entries and dropping empty ones. */
export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Defaults shown in the usage, Go-style (`(default "…")`); flags whose default is empty or false show none. */
const SHOWN_DEFAULTS: Record<string, string> = {
  addr: JSON.stringify(DEFAULT_OPTIONS.addr),
  name: JSON.stringify(DEFAULT_OPTIONS.name),
  id: JSON.stringify(DEFAULT_OPTIONS.id),
  capabilities: JSON.stringify(DEFAULT_OPTIONS.capabilities.join(",")),
  workdir: JSON.stringify(DEFAULT_OPTIONS.workdir),
  backend: JSON.stringify(DEFAULT_OPTIONS.backend),
  token: "$COVEN_TOKEN",
  chunks: String(DEFAULT_OPTIONS.chunks),
  "chunk-delay-ms": String(DEFAULT_OPTIONS.chunkDelayMs),
  "done-delay-ms": String(DEFAULT_OPTIONS.doneDelayMs),
  "heartbeat-ms": String(DEFAULT_OPTIONS.heartbeatMs),
  instances: "1",
};

const SCRIPT_FORMAT = `
Without -script the agent echoes each message ("Echo: **<message>**" and a fixed sentence), in -chunks text events.

Script format (-script file.json; full reference in docs/fake-agent.md):
  {"rules": [{"match": "approve me", "steps": [...]},        first matching rule wins; "match" is a
             {"match": "/^ask (.+)$/i", "steps": [...]}],     case-insensitive substring or /regex/flags
   "default": [...]}                                          optional; unmatched messages otherwise echo
  Steps (one key each, plus an optional "delay_ms"):
    {"text": "...", "chunks": N, "chunk_delay_ms": M}   {"thinking": "..."}   {"usage": {"input_tokens": N, ...}}
    {"tool_use": {"id", "name", "input"}}   {"tool_state": {"id", "state"}}   {"tool_result": {"id", "output", "is_error"}}
    {"approval": {"id", "name", "input", "timeout_ms", "on_deny": "continue"|"error"}}
    {"pack_tool": {"name", "input", "emit": "tool_result"|"text"|"none"}}   {"file": {...}}   {"heartbeat": true}
    {"session_init": "<id>"}   {"session_orphaned": "<reason>"}
    {"sleep_ms": N}   {"done": "<text>"|true}   {"error": "..."}   {"cancelled": "..."}   {"disconnect": true}   {"hang": true}
  Strings may use {{message}} {{request_id}} {{thread_id}} {{sender}} {{1}}.. (regex groups) {{last_result}}.
  Steps that run out without a terminal step end with done.`;

/** The usage text printed for `-h` and after a flag error: every flag with its default, then the script format. */
export function fakeAgentUsage(): string {
  const lines = ["Usage of fake-agent:"];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const arg = spec.kind === "bool" ? "" : spec.kind === "int" ? " int" : " string";
    const def = SHOWN_DEFAULTS[name];
    lines.push(`  -${name}${arg}`, `    \t${spec.usage}${def === undefined ? "" : ` (default ${def})`}`);
  }
  return lines.join("\n") + "\n" + SCRIPT_FORMAT;
}

/** Go's strconv.ParseBool. */
function parseBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

function parseValue(name: string, spec: FlagSpec, raw: string): string | number | boolean {
  if (spec.kind === "bool") {
    const value = parseBool(raw);
    if (value === undefined) throw new UsageError(`invalid boolean value "${raw}" for -${name}: parse error`);
    return value;
  }
  if (spec.kind === "int") {
    if (!/^[+-]?\d+$/.test(raw)) throw new UsageError(`invalid value "${raw}" for flag -${name}: parse error`);
    const value = Number(raw);
    if (!Number.isSafeInteger(value)) throw new UsageError(`invalid value "${raw}" for flag -${name}: value out of range`);
    if (spec.min !== undefined && value < spec.min) {
      throw new UsageError(`invalid value "${raw}" for flag -${name}: must be at least ${spec.min}`);
    }
    return value;
  }
  return raw;
}

/**
 * Parses fake-agent's command line the way Go's `flag` package does. `-token` defaults to `env.COVEN_TOKEN`.
 * Throws UsageError (exit 2) for unknown flags, missing or malformed values and positional arguments, and
 * UsageError with exit 0 carrying the usage text for `-h`/`-help`.
 */
export function parseFakeAgentArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): FakeAgentArgs {
  const args: FakeAgentArgs = {
    ...DEFAULT_OPTIONS,
    capabilities: [...DEFAULT_OPTIONS.capabilities],
    workspaces: [],
    features: [],
    instances: 1,
    token: env.COVEN_TOKEN ? env.COVEN_TOKEN : undefined,
  };
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    i++;
    if (arg === "--") {
      if (i < argv.length) throw new UsageError(`unexpected argument: ${argv[i]}`);
      break;
    }
    if (arg.length < 2 || !arg.startsWith("-")) throw new UsageError(`unexpected argument: ${arg}`);
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    if (body === "" || body.startsWith("-") || body.startsWith("=")) throw new UsageError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf("=");
    const name = eq === -1 ? body : body.slice(0, eq);
    let raw = eq === -1 ? undefined : body.slice(eq + 1);
    if (name === "h" || name === "help") throw new UsageError(fakeAgentUsage(), 0);
    const spec = FLAGS[name];
    if (spec === undefined) throw new UsageError(`flag provided but not defined: -${name}`);
    if (raw === undefined) {
      if (spec.kind === "bool") raw = "true";
      else if (i < argv.length) raw = argv[i++] as string;
      else throw new UsageError(`flag needs an argument: -${name}`);
    }
    spec.apply(args, parseValue(name, spec, raw));
  }
  return args;
}
