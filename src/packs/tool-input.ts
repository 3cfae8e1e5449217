// ABOUTME: Input parsing and output encoding shared by builtin tool handlers (packs-mcp.md §5.0 and §0).
// ABOUTME: Exact "invalid input: ..." messages, and compact JSON with keys sorted at every level.
import { ToolError } from "./tool-error.js";

/** Parses a call's `input_json`; empty or whitespace-only text is `{}`. Throws ToolError with the §5.0 messages. */
export function parseToolInput(inputJson: string): Record<string, unknown> {
  if (inputJson.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(inputJson);
  } catch (err) {
    throw new ToolError(`invalid input: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ToolError("invalid input: expected a JSON object");
  }
  return parsed as Record<string, unknown>;
}

const wrongType = (name: string, type: string) => new ToolError(`invalid input: field "${name}" must be of type ${type}`);

/** Reads an optional string field; `null` and absent are undefined. */
export function optionalString(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw wrongType(name, "string");
  return value;
}

/** Reads an optional integer field (a JSON number with no fractional part). */
export function optionalInteger(input: Record<string, unknown>, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) throw wrongType(name, "integer");
  return value;
}

/** Reads an optional boolean field. */
export function optionalBoolean(input: Record<string, unknown>, name: string): boolean | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw wrongType(name, "boolean");
  return value;
}

/** Reads an optional array field whose elements are objects (each one a plain record). */
export function optionalObjectArray(input: Record<string, unknown>, name: string): Array<Record<string, unknown>> | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw wrongType(name, "array");
  if (!value.every((v) => typeof v === "object" && v !== null && !Array.isArray(v))) throw wrongType(name, "array");
  return value as Array<Record<string, unknown>>;
}

/** Reads an optional array-of-strings field. */
export function optionalStringArray(input: Record<string, unknown>, name: string): string[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw wrongType(name, "array");
  if (!value.every((v) => typeof v === "string")) throw wrongType(name, "array");
  return value as string[];
}

/** Compact JSON with object keys sorted alphabetically at every level (byte-stable outputs). */
export function encodeSorted(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
