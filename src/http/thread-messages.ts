// ABOUTME: Maps ledger events to the message objects of GET /api/threads/{id}/messages (the table of http-api.md §7):
// ABOUTME: tool_call -> tool_use with its input as compact JSON, tool_result -> output, the rest -> message.
import type { LedgerEvent } from "../store/ledger-repository.js";

/** One entry of the thread messages response, keys in the spec's order (tool fields omitted when absent). */
export interface ThreadMessage {
  id: string;
  thread_id: string;
  sender: string;
  content: string;
  type: "tool_use" | "tool_result" | "message";
  tool_name?: string;
  tool_id?: string;
  created_at: string;
}

/**
 * Maps one ledger event of thread `threadId`. Tool texts are the JSON written by conversation/tool-text.ts; a text
 * that does not parse into that shape (a legacy row) keeps its raw text as `content` and has no tool fields.
 */
export function toThreadMessage(event: LedgerEvent, threadId: string): ThreadMessage {
  const text = event.text ?? "";
  const base = { id: event.eventId, thread_id: event.threadId ?? threadId, sender: event.author };
  const createdAt = event.timestamp;
  if (event.type === "tool_call") {
    const call = parseToolCall(text);
    return call === undefined
      ? { ...base, content: text, type: "tool_use", created_at: createdAt }
      : { ...base, content: call.input, type: "tool_use", tool_name: call.name, tool_id: call.id, created_at: createdAt };
  }
  if (event.type === "tool_result") {
    const result = parseToolResult(text);
    return result === undefined
      ? { ...base, content: text, type: "tool_result", created_at: createdAt }
      : { ...base, content: result.output, type: "tool_result", tool_id: result.id, created_at: createdAt };
  }
  return { ...base, content: text, type: "message", created_at: createdAt };
}

/** Our own tool_call layout: `{"name":<string>,"id":<string>,"input":<value>}` (input spliced verbatim). */
const TOOL_CALL_RE = /^\{"name":("(?:[^"\\]|\\.)*"),"id":("(?:[^"\\]|\\.)*"),"input":([\s\S]*)\}$/;

/**
 * `{name, id, input}` of a stored tool_call text; `input` is compact JSON. The raw input text is compacted
 * lexically when the text has our layout, so large numbers keep their digits; other JSON objects with string
 * `name`/`id` and an `input` fall back to re-serialising the parsed value.
 */
export function parseToolCall(text: string): { name: string; id: string; input: string } | undefined {
  const parsed = parseObject(text);
  if (parsed === undefined) return undefined;
  const { name, id, input } = parsed;
  if (typeof name !== "string" || typeof id !== "string" || input === undefined) return undefined;
  const raw = TOOL_CALL_RE.exec(text)?.[3];
  return { name, id, input: raw !== undefined && isJson(raw) ? compactJson(raw) : JSON.stringify(input) };
}

/** `{id, output}` of a stored tool_result text, or undefined when it is not that shape. */
export function parseToolResult(text: string): { id: string; output: string } | undefined {
  const parsed = parseObject(text);
  if (parsed === undefined) return undefined;
  const { id, output } = parsed;
  return typeof id === "string" && typeof output === "string" ? { id, output } : undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  return isObject ? (value as Record<string, unknown>) : undefined;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Drops the insignificant whitespace of valid JSON text, leaving every token (numbers included) as written. */
export function compactJson(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] as string;
    if (inString) {
      out += ch;
      if (ch === "\\") {
        out += text[i + 1] ?? "";
        i += 1;
      } else if (ch === '"') {
        inString = false;
      }
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch !== " " && ch !== "\t" && ch !== "\n" && ch !== "\r") {
      out += ch;
    }
  }
  return out;
}
