// ABOUTME: Terminal input for `coven-admin chat`: one line source shared by the REPL prompt and the approval and
// ABOUTME: question prompts (cli.md §3.9), plus the pure answer parsing those prompts use.
import { createInterface } from "node:readline";
import type * as pb from "../../src/gen/coven_pb.js";
import { paint, type CliIo } from "../coven-gateway/cli-io.js";

/** The REPL reads at most this much per line; longer lines are skipped. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Lines of stdin, one at a time; `next` resolves null at end of input or when `signal` aborts the wait. */
export interface LineSource {
  next(signal?: AbortSignal): Promise<string | null>;
  close(): void;
}

/** Reads lines from `input` (a TTY in cooked mode or a pipe); lines typed ahead are queued, not lost. */
export function createLineSource(input: NodeJS.ReadableStream): LineSource {
  const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
  const queued: string[] = [];
  const waiters: Array<(line: string | null) => void> = [];
  let ended = false;
  rl.on("line", (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queued.push(line);
  });
  rl.on("close", () => {
    ended = true;
    for (const waiter of waiters.splice(0)) waiter(null);
  });
  return {
    next(signal) {
      if (queued.length > 0) return Promise.resolve(queued.shift()!);
      if (ended || signal?.aborted) return Promise.resolve(null);
      return new Promise((resolve) => {
        const waiter = (line: string | null) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(line);
        };
        const onAbort = () => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          resolve(null);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
      });
    },
    close() {
      rl.close();
    },
  };
}

/** y/yes approves, a/all approves this and later calls of the tool; n, an empty answer and anything else deny. */
export function parseApprovalAnswer(answer: string): { approved: boolean; approveAll: boolean } {
  const a = answer.trim().toLowerCase();
  if (a === "a" || a === "all") return { approved: true, approveAll: true };
  if (a === "y" || a === "yes") return { approved: true, approveAll: false };
  return { approved: false, approveAll: false };
}

/**
 * Numbers (1-based, comma-separated) pick option labels; any other non-empty text is a custom answer. Returns
 * undefined for an empty answer or a number outside 1..N, so the caller prompts again.
 */
export function parseQuestionAnswer(answer: string, options: readonly { label: string }[]): { selected: string[]; customText?: string } | undefined {
  const text = answer.trim();
  if (text === "") return undefined;
  if (/^\d+(\s*,\s*\d+)*$/.test(text)) {
    const picks = text.split(",").map((n) => Number(n.trim()));
    if (options.length === 0) return { selected: [], customText: text };
    if (picks.some((n) => n < 1 || n > options.length)) return undefined;
    return { selected: [...new Set(picks)].map((n) => options[n - 1]!.label) };
  }
  return { selected: [], customText: text };
}

/** Asks `Approve tool <name> <input>? [y]es/[n]o/[a]ll: `; end of input (or an abort) counts as no answer. */
export async function askApproval(io: CliIo, lines: LineSource, req: pb.ClientToolApprovalRequest, signal: AbortSignal): Promise<{ approved: boolean; approveAll: boolean } | undefined> {
  io.stdout.write(paint(io, io.stdout, ["yellow"], `Approve tool ${req.toolName} ${req.inputJson}? [y]es/[n]o/[a]ll: `));
  const line = await lines.next(signal);
  if (line === null) return undefined;
  return parseApprovalAnswer(line);
}

/** Prints the question block of cli.md §3.9: header, question, numbered options. */
export function printQuestion(io: CliIo, q: pb.UserQuestionRequest): void {
  let out = "\n";
  if (q.header) out += paint(io, io.stdout, ["bold"], q.header) + "\n";
  out += q.question + "\n";
  q.options.forEach((o, i) => {
    out += `  ${i + 1}) ${o.label}${o.description ? ` - ${o.description}` : ""}\n`;
  });
  io.stdout.write(out);
}

/** The prompt after a question: options by number, or free text. */
export function questionPrompt(q: pb.UserQuestionRequest): string {
  if (q.options.length === 0) return "Type an answer: ";
  return `Choose 1-${q.options.length} (comma-separated for several), or type an answer: `;
}
