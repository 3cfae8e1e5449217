// ABOUTME: Chooses the reply for a message (first matching rule, default, or echo) and fills `{{…}}` placeholders.
// ABOUTME: Also holds the echo texts and the even text chunking shared by echo mode and `text` steps.
import type { Matcher, Script, Step } from "./script.js";

/** Values available to placeholders while one request runs. */
export interface TemplateContext {
  message: string;
  requestId: string;
  threadId: string;
  sender: string;
  /** Regex capture groups; index 0 is the whole match. */
  groups: string[];
  /** `output_json` or `error` of the most recent `pack_tool` step ("" before any). */
  lastResult: string;
}

const PLACEHOLDER = /\{\{(message|request_id|thread_id|sender|last_result|\d+)\}\}/g;

/** Substitutes placeholders in one string in a single pass (substituted text is never re-expanded). */
export function renderTemplate(text: string, ctx: TemplateContext): string {
  return text.replace(PLACEHOLDER, (_whole, name: string) => {
    switch (name) {
      case "message":
        return ctx.message;
      case "request_id":
        return ctx.requestId;
      case "thread_id":
        return ctx.threadId;
      case "sender":
        return ctx.sender;
      case "last_result":
        return ctx.lastResult;
      default:
        return ctx.groups[Number(name)] ?? "";
    }
  });
}

/** Substitutes placeholders in every string inside `value` (objects and arrays are copied). */
export function renderDeep<T>(value: T, ctx: TemplateContext): T {
  if (typeof value === "string") return renderTemplate(value, ctx) as T;
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, ctx)) as T;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDeep(v, ctx);
    return out as T;
  }
  return value;
}

/** Tests a matcher; returns the capture groups (index 0 = whole match) or undefined. */
export function matchContent(matcher: Matcher, content: string): string[] | undefined {
  if (matcher.kind === "substring") return content.toLowerCase().includes(matcher.needle) ? [content] : undefined;
  const m = new RegExp(matcher.source, matcher.flags).exec(content);
  return m === null ? undefined : Array.from(m, (g) => g ?? "");
}

/** The script's steps for `content` (first matching rule, else `default`), or undefined for echo mode. */
export function selectSteps(script: Script | undefined, content: string): { steps: Step[]; groups: string[] } | undefined {
  if (script === undefined) return undefined;
  for (const rule of script.rules) {
    const groups = matchContent(rule.matcher, content);
    if (groups !== undefined) return { steps: rule.steps, groups };
  }
  if (script.default !== undefined) return { steps: script.default, groups: [content] };
  return undefined;
}

const MARKDOWN_REPLY =
  "Here is a **markdown** response:\n\n- First item\n- Second item with `code`\n- Third item\n\n> This is a blockquote.\n";

/** The echo-mode reply text of cli.md §4.3, byte for byte. */
export function echoReply(content: string): string {
  const lower = content.toLowerCase();
  if (lower.includes("markdown") || lower.includes("bullet") || lower.includes("list")) return MARKDOWN_REPLY;
  return `Echo: **${content}**\n\nI received your message and am responding with some *formatted* text.`;
}

/** The echo-mode reply as steps: the chunked text, a pause of `doneDelayMs`, then `done` with the whole text. */
export function echoSteps(content: string, chunks: number, chunkDelayMs: number, doneDelayMs: number): Step[] {
  return [
    { kind: "text", text: echoReply(content), chunks, chunkDelayMs, delayMs: 0 },
    { kind: "done", delayMs: doneDelayMs },
  ];
}

/**
 * Splits `text` into `n` pieces as evenly as possible, counting Unicode code points (so a surrogate pair is never
 * cut): the first `len % n` pieces get one extra character. `n` is capped at the number of code points, so no
 * piece is empty; an empty text yields one empty piece.
 */
export function splitIntoChunks(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(Math.floor(n), chars.length));
  const base = Math.floor(chars.length / count);
  const extra = chars.length % count;
  const pieces: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const size = base + (i < extra ? 1 : 0);
    pieces.push(chars.slice(at, at + size).join(""));
    at += size;
  }
  return pieces;
}
