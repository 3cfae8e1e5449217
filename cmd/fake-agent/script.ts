// ABOUTME: Reply scripts for the fake agent: the step types, loading and strict validation (cli.md §4.4).
// ABOUTME: A malformed script is rejected up front with `script error: <path>: <detail>`.
import { readFileSync } from "node:fs";

/** The tool states a `tool_state` step may name (mapped to the `TOOL_STATE_*` enum). */
export const TOOL_STATE_NAMES = [
  "pending",
  "awaiting_approval",
  "running",
  "completed",
  "failed",
  "denied",
  "timeout",
  "cancelled",
] as const;
export type ToolStateName = (typeof TOOL_STATE_NAMES)[number];

/** One validated step; string fields may hold `{{…}}` placeholders, substituted when the step runs. */
export type StepAction =
  | { kind: "thinking"; text: string }
  | { kind: "text"; text: string; chunks: number; chunkDelayMs: number }
  | { kind: "tool_use"; id: string; name: string; input: unknown }
  | { kind: "tool_state"; id: string; state: ToolStateName; detail?: string }
  | { kind: "tool_result"; id: string; output: string; isError: boolean }
  | { kind: "approval"; id: string; name: string; input: unknown; timeoutMs: number; onDeny: "continue" | "error" }
  | { kind: "pack_tool"; name: string; input: unknown; requestId?: string; timeoutMs: number; emit: "tool_result" | "text" | "none" }
  | { kind: "usage"; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number; thinkingTokens: number }
  | { kind: "file"; filename: string; mimeType: string; dataBase64: string }
  | { kind: "session_init"; sessionId: string }
  | { kind: "session_orphaned"; reason: string }
  | { kind: "sleep"; ms: number }
  | { kind: "heartbeat" }
  /** `text` undefined means `"done": true`: the full response is every text sent for the request. */
  | { kind: "done"; text?: string }
  | { kind: "error"; message: string }
  | { kind: "cancelled"; reason: string }
  | { kind: "disconnect" }
  | { kind: "hang" };

export type Step = StepAction & { delayMs: number };

/** How a rule's `match` is tested against the message content. */
export type Matcher = { kind: "substring"; needle: string } | { kind: "regex"; source: string; flags: string };

export interface ScriptRule {
  match: string;
  matcher: Matcher;
  steps: Step[];
}

export interface Script {
  rules: ScriptRule[];
  default?: Step[];
}

const STEP_KEYS = [
  "thinking", "text", "tool_use", "tool_state", "tool_result", "approval", "pack_tool", "usage", "file",
  "session_init", "session_orphaned", "sleep_ms", "heartbeat", "done", "error", "cancelled", "disconnect", "hang",
];
const UNCONDITIONAL_END = new Set(["done", "error", "cancelled", "disconnect", "hang"]);

class ScriptShapeError extends Error {}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail(where: string, detail: string): never {
  throw new ScriptShapeError(`${where}: ${detail}`);
}

function onlyKeys(obj: Obj, allowed: string[], where: string): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) fail(where, `unknown field "${key}"`);
}

function reqString(obj: Obj, key: string, where: string): string {
  const value = obj[key];
  if (typeof value !== "string") fail(where, `"${key}" must be a string`);
  return value;
}

function optString(obj: Obj, key: string, where: string): string | undefined {
  return obj[key] === undefined ? undefined : reqString(obj, key, where);
}

function optInt(obj: Obj, key: string, where: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(where, `"${key}" must be an integer between ${min} and ${max}`);
  }
  return value;
}

function reqTrue(value: unknown, key: string, where: string): void {
  if (value !== true) fail(where, `"${key}" must be true`);
}

function reqObject(value: unknown, key: string, where: string): Obj {
  if (!isObject(value)) fail(where, `"${key}" must be an object`);
  return value;
}

/** Parses a rule's `match`: `/regex/flags` becomes a regex matcher, anything else a case-insensitive substring. */
export function parseMatcher(match: string, where: string): Matcher {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(match);
  if (m === null) return { kind: "substring", needle: match.toLowerCase() };
  const source = m[1] as string;
  const flags = (m[2] as string).replace(/[gy]/g, "");
  try {
    new RegExp(source, flags);
  } catch (err) {
    fail(where, `invalid regex ${match}: ${(err as Error).message}`);
  }
  return { kind: "regex", source, flags };
}

function parseAction(key: string, value: unknown, where: string): StepAction {
  const at = `${where}.${key}`;
  switch (key) {
    case "thinking":
    case "session_init":
    case "session_orphaned":
    case "error":
    case "cancelled": {
      if (typeof value !== "string") fail(where, `"${key}" must be a string`);
      if (key === "thinking") return { kind: "thinking", text: value };
      if (key === "session_init") return { kind: "session_init", sessionId: value };
      if (key === "session_orphaned") return { kind: "session_orphaned", reason: value };
      if (key === "error") return { kind: "error", message: value };
      return { kind: "cancelled", reason: value };
    }
    case "tool_use": {
      const o = reqObject(value, key, where);
      onlyKeys(o, ["id", "name", "input"], at);
      return { kind: "tool_use", id: reqString(o, "id", at), name: reqString(o, "name", at), input: o.input ?? {} };
    }
    case "tool_state": {
      const o = reqObject(value, key, where);
      onlyKeys(o, ["id", "state", "detail"], at);
      const state = reqString(o, "state", at);
      if (!(TOOL_STATE_NAMES as readonly string[]).includes(state)) {
        fail(at, `"state" must be one of ${TOOL_STATE_NAMES.join(", ")}`);
      }
      const detail = optString(o, "detail", at);
      return { kind: "tool_state", id: reqString(o, "id", at), state: state as ToolStateName, ...(detail === undefined ? {} : { detail }) };
    }
    case "tool_result": {
      const o = reqObject(value, key, where);
      onlyKeys(o, ["id", "output", "is_error"], at);
      if (o.is_error !== undefined && typeof o.is_error !== "boolean") fail(at, `"is_error" must be a boolean`);
      return { kind: "tool_result", id: reqString(o, "id", at), output: reqString(o, "output", at), isError: o.is_error === true };
    }
    case "approval": {
      const o = reqObject(value, key, where);
      onlyKeys(o, ["id", "name", "input", "timeout_ms", "on_deny"], at);
      const onDeny = o.on_deny ?? "continue";
      if (onDeny !== "continue" && onDeny !== "error") fail(at, `"on_deny" must be "continue" or "error"`);
      return {
        kind: "approval",
        id: reqString(o, "id", at),
        name: reqString(o, "name", at),
        input: o.input ?? {},
        timeoutMs: optInt(o, "timeout_ms", at, 60_000),
        onDeny,
      };
    }
    case "pack_tool": {
      const o = reqObject(value, key, where);
      onlyKeys(o, ["name", "input", "request_id", "timeout_ms", "emit"], at);
      const emit = o.emit ?? "tool_result";
      if (emit !== "tool_result" && emit !== "text" && emit !== "none") fail(at, `"emit" must be "tool_result", "text" or "none"`);
      const requestId = optString(o, "request_id", at);
      return {
        kind: "pack_tool",
        name: reqString(o, "name", at),
        input: o.input ?? {},
        ...(requestId === undefined ? {} : { requestId }),
        timeoutMs: optInt(o, "timeout_ms", at, 330_000),
        emit,
      };
    }
    case "usage": {
      const o = reqObject(value, key, where);
      const names = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "thinking_tokens"];
      onlyKeys(o, names, at);
      const n = (k: string) => optInt(o, k, at, 0, 0, 2_147_483_647);
      return {
        kind: "usage",
        inputTokens: n("input_tokens"),
        outputTokens: n("output_tokens"),
        cacheReadTokens: n("cache_read_tokens"),
        cacheWriteTokens: n("cache_write_tokens"),
        thinkingTokens: n("thinking_tokens"),
      };
    }
    case "file": {
      const o = reqObject(value, key, where);
      onlyKeys(o, ["filename", "mime_type", "data_base64"], at);
      const dataBase64 = reqString(o, "data_base64", at);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(dataBase64) || dataBase64.length % 4 !== 0) fail(at, `"data_base64" is not valid base64`);
      return { kind: "file", filename: reqString(o, "filename", at), mimeType: reqString(o, "mime_type", at), dataBase64 };
    }
    case "sleep_ms":
      return { kind: "sleep", ms: optInt({ sleep_ms: value }, "sleep_ms", where, 0) };
    case "heartbeat":
      reqTrue(value, key, where);
      return { kind: "heartbeat" };
    case "done":
      if (value === true) return { kind: "done" };
      if (typeof value !== "string") fail(where, `"done" must be a string or true`);
      return { kind: "done", text: value };
    case "disconnect":
      reqTrue(value, key, where);
      return { kind: "disconnect" };
    case "hang":
      reqTrue(value, key, where);
      return { kind: "hang" };
    default:
      return fail(where, `unknown step "${key}"`);
  }
}

function parseStep(raw: unknown, where: string): Step {
  if (!isObject(raw)) fail(where, "step must be an object");
  const keys = Object.keys(raw).filter((k) => k !== "delay_ms" && k !== "chunks" && k !== "chunk_delay_ms");
  const stepKeys = keys.filter((k) => STEP_KEYS.includes(k));
  if (stepKeys.length !== 1) {
    const unknown = keys.find((k) => !STEP_KEYS.includes(k));
    if (unknown !== undefined) fail(where, `unknown step "${unknown}"`);
    fail(where, stepKeys.length === 0 ? "no step key" : `more than one step key (${stepKeys.join(", ")})`);
  }
  const key = stepKeys[0] as string;
  const unknown = keys.find((k) => k !== key);
  if (unknown !== undefined) fail(where, `unknown field "${unknown}"`);
  if (key !== "text" && (raw.chunks !== undefined || raw.chunk_delay_ms !== undefined)) {
    fail(where, `"chunks" and "chunk_delay_ms" belong to a text step`);
  }
  const delayMs = optInt(raw, "delay_ms", where, 0);
  if (key === "text") {
    if (typeof raw.text !== "string") fail(where, `"text" must be a string`);
    return {
      kind: "text",
      text: raw.text,
      chunks: optInt(raw, "chunks", where, 1, 1),
      chunkDelayMs: optInt(raw, "chunk_delay_ms", where, 0),
      delayMs,
    };
  }
  return { ...parseAction(key, raw[key], where), delayMs };
}

function parseSteps(raw: unknown, where: string): Step[] {
  if (!Array.isArray(raw)) fail(where, "must be an array of steps");
  const steps = raw.map((s, i) => parseStep(s, `${where}[${i}]`));
  const end = steps.findIndex((s) => UNCONDITIONAL_END.has(s.kind));
  if (end !== -1 && end < steps.length - 1) fail(`${where}[${end + 1}]`, `unreachable after "${steps[end]?.kind}" step`);
  return steps;
}

/**
 * Validates a decoded script document and returns its normalized form.
 * Throws `script error: <source>: <detail>` naming the offending rule/step.
 */
export function parseScript(doc: unknown, source = "<inline>"): Script {
  try {
    const root = reqObject(doc, "script", "script");
    onlyKeys(root, ["rules", "default"], "script");
    const rulesRaw = root.rules ?? [];
    if (!Array.isArray(rulesRaw)) fail("rules", "must be an array");
    const rules = rulesRaw.map((r, i): ScriptRule => {
      const where = `rules[${i}]`;
      const rule = reqObject(r, "rule", where);
      onlyKeys(rule, ["match", "steps"], where);
      const match = reqString(rule, "match", where);
      if (match === "") fail(where, `"match" must not be empty`);
      return { match, matcher: parseMatcher(match, where), steps: parseSteps(rule.steps, `${where}.steps`) };
    });
    const script: Script = { rules };
    if (root.default !== undefined) script.default = parseSteps(root.default, "default");
    return script;
  } catch (err) {
    if (err instanceof ScriptShapeError) throw new Error(`script error: ${source}: ${err.message}`);
    throw err;
  }
}

/** Reads and validates a script file. Throws `script error: <path>: <detail>` (unreadable, bad JSON, bad shape). */
export function loadScript(path: string): Script {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`script error: ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`script error: ${path}: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseScript(doc, path);
}
