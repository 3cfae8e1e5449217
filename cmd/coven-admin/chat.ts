// ABOUTME: `coven-admin chat <agent-id> [message…]` (cli.md §3.9): one StreamEvents opened before the first send,
// ABOUTME: every turn ends on its terminal payload (done, error, or the committed agent row), one-shot or REPL.
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import type * as pb from "../../src/gen/coven_pb.js";
import { paint, printError, type CliIo } from "../coven-gateway/cli-io.js";
import { type Clients, type Connection } from "./connection.js";
import { failCall, failUsage } from "./output.js";
import type { AdminIo, Leaf, Parsed } from "./command.js";
import { withGateway } from "./session.js";

type TurnEnd = { ok: true } | { ok: false; message: string };

interface Turn {
  messageId: string | undefined;
  seenOwnEvent: boolean;
  sawTransient: boolean;
  /** `event` payloads that arrived before SendMessage returned the message id. */
  early: pb.Event[];
  end(result: TurnEnd): void;
}

const TERMINAL_ROW_TYPES = new Set(["message", "error", "system"]);

/** The one StreamEvents subscription of a chat session, rendering payloads into whichever turn is active. */
class ChatStream {
  turn: Turn | undefined;
  #abort = new AbortController();
  #ended = false;

  constructor(
    private readonly io: CliIo,
    private readonly clients: Clients,
    private readonly agentId: string,
  ) {}

  get isEnded(): boolean {
    return this.#ended;
  }

  /** Opens the stream and waits for its headers or first message, at most 2 s. */
  async open(): Promise<void> {
    this.#abort = new AbortController();
    this.#ended = false;
    let opened!: () => void;
    const ready = new Promise<void>((resolve) => (opened = resolve));
    const stream = this.clients.client.streamEvents({ conversationKey: this.agentId }, { signal: this.#abort.signal, onHeader: () => opened() });
    void (async () => {
      try {
        for await (const ev of stream) {
          opened();
          this.#handle(ev);
        }
      } catch (err) {
        if (!this.#abort.signal.aborted) this.turn?.end({ ok: false, message: `stream ended: ${(err as Error).message}` });
      } finally {
        this.#ended = true;
        opened();
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
  }

  close(): void {
    this.#abort.abort();
  }

  #out(text: string): void {
    this.io.stdout.write(text);
  }

  #handle(ev: pb.ClientStreamEvent): void {
    const turn = this.turn;
    if (turn === undefined) return;
    const p = ev.payload;
    if (p.case !== "event") turn.sawTransient = true;
    switch (p.case) {
      case "text":
        this.#out(p.value.content);
        break;
      case "thinking":
        if (this.io.stdout.isTTY) this.#out(paint(this.io, this.io.stdout, ["dim"], `\u001b[3m${p.value.content}`));
        break;
      case "toolUse":
        this.#out(paint(this.io, this.io.stdout, ["yellow"], `\n[tool: ${p.value.name}]`) + "\n");
        break;
      case "toolResult":
        if (p.value.isError) this.#out(paint(this.io, this.io.stdout, ["red"], `  ${p.value.output}`) + "\n");
        else if (p.value.output !== "") this.#out(`  ${p.value.output}\n`);
        break;
      case "toolApproval":
        this.#out(`[approval required: ${p.value.toolName} (tool_id ${p.value.toolId}); approve it in the web admin]\n`);
        break;
      case "userQuestion":
        this.#out(`[question pending: ${p.value.question} (question_id ${p.value.questionId})]\n`);
        break;
      case "done":
        this.#out("\n");
        turn.end({ ok: true });
        break;
      case "error":
        turn.end({ ok: false, message: p.value.message });
        break;
      case "event":
        if (turn.messageId === undefined) turn.early.push(p.value);
        else this.ledgerRow(turn, p.value);
        break;
      default:
        break;
    }
  }

  /** Applies §3.9 step 4: the committed agent row after our own message ends a turn that saw no transient payload. */
  ledgerRow(turn: Turn, row: pb.Event): void {
    if (row.id === turn.messageId) {
      turn.seenOwnEvent = true;
      return;
    }
    if (!turn.seenOwnEvent || turn.sawTransient) return;
    if (row.direction !== "outbound_from_agent" || !TERMINAL_ROW_TYPES.has(row.type)) return;
    if (row.type === "message") {
      this.#out(`${row.text ?? ""}\n`);
      turn.end({ ok: true });
    } else turn.end({ ok: false, message: row.text ?? row.type });
  }
}

type TurnOutcome = { kind: "end"; result: TurnEnd } | { kind: "send-failed"; err: unknown } | { kind: "timeout" };

/** Sends one message and waits for the turn's terminal payload, at most `timeoutMs`. */
async function runTurn(stream: ChatStream, clients: Clients, agentId: string, content: string, timeoutMs: number): Promise<TurnOutcome> {
  let end!: (result: TurnEnd) => void;
  const ended = new Promise<TurnEnd>((resolve) => (end = resolve));
  const turn: Turn = { messageId: undefined, seenOwnEvent: false, sawTransient: false, early: [], end: (r) => end(r) };
  stream.turn = turn;
  let timer: NodeJS.Timeout | undefined;
  try {
    let res: pb.ClientSendMessageResponse;
    try {
      res = await clients.client.sendMessage({ conversationKey: agentId, content, idempotencyKey: randomBytes(16).toString("hex") });
    } catch (err) {
      return { kind: "send-failed", err };
    }
    turn.messageId = res.messageId;
    for (const row of turn.early.splice(0)) stream.ledgerRow(turn, row);
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const result = await Promise.race([ended, timeout]);
    return result === "timeout" ? { kind: "timeout" } : { kind: "end", result };
  } finally {
    clearTimeout(timer);
    stream.turn = undefined;
  }
}

const CHAT_USAGE = "usage: chat <agent-id> [message]";

/** Runs `chat`; exit 0 after a successful one-shot turn or Ctrl+D in the REPL, 1 on errors. */
async function runChat({ values, positionals }: Parsed, io: AdminIo): Promise<number> {
  const [agentId, ...words] = positionals;
  if (!agentId) return failUsage(io, CHAT_USAGE);
  const timeoutText = (values.timeout as string | undefined) ?? "600";
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) <= 0) return failUsage(io, `invalid timeout: "${timeoutText}" is not a positive number of seconds`);
  const timeoutMs = Number(timeoutText) * 1_000;

  return withGateway(io, async (clients, conn) => {
    const stream = new ChatStream(io, clients, agentId);
    await stream.open();
    try {
      if (words.length > 0) return await oneShot(io, stream, clients, conn, agentId, words.join(" "), timeoutMs);
      return await repl(io, stream, clients, conn, agentId, timeoutMs);
    } finally {
      stream.close();
    }
  });
}

async function oneShot(io: CliIo, stream: ChatStream, clients: Clients, conn: Connection, agentId: string, content: string, timeoutMs: number): Promise<number> {
  const outcome = await runTurn(stream, clients, agentId, content, timeoutMs);
  if (outcome.kind === "send-failed") return failCall(io, "SendMessage", outcome.err, conn);
  if (outcome.kind === "timeout") {
    printError(io, "timed out waiting for agent response");
    return 1;
  }
  if (!outcome.result.ok) {
    printError(io, `agent error: ${outcome.result.message}`);
    return 1;
  }
  return 0;
}

async function repl(io: CliIo & { stdin?: NodeJS.ReadableStream }, stream: ChatStream, clients: Clients, conn: Connection, agentId: string, timeoutMs: number): Promise<number> {
  io.stdout.write(paint(io, io.stdout, ["cyan"], `Chat with agent ${agentId} (Ctrl+D to exit)`) + "\n\n");
  const rl = createInterface({ input: io.stdin ?? process.stdin, crlfDelay: Infinity, terminal: false });
  const prompt = () => io.stdout.write(paint(io, io.stdout, ["green"], "> "));
  try {
    prompt();
    for await (const line of rl) {
      if (line.length > 1024 * 1024 || line.trim() === "") {
        prompt();
        continue;
      }
      if (stream.isEnded) await stream.open();
      const outcome = await runTurn(stream, clients, agentId, line, timeoutMs);
      if (outcome.kind === "send-failed") failCall(io, "SendMessage", outcome.err, conn);
      else if (outcome.kind === "timeout") printError(io, "timed out waiting for agent response");
      else if (!outcome.result.ok) io.stdout.write(paint(io, io.stdout, ["red"], `agent error: ${outcome.result.message}`) + "\n");
      io.stdout.write("\n");
      prompt();
    }
    io.stdout.write("\n");
    return 0;
  } finally {
    rl.close();
  }
}

export const CHAT: Leaf = {
  kind: "leaf",
  name: "chat",
  synopsis: "chat <agent-id> [message...] [--timeout <seconds>]",
  summary:
    "Chat with an agent. With a message: send it, print the reply, exit 0 when the agent is done (1 on an agent error).\n" +
    "Without one: a REPL over one event stream; Ctrl+D exits. Tool approvals and agent questions are listed\n" +
    "and wait for the web admin. Use -- before a message that starts with a dash.",
  flags: [{ name: "timeout", type: "string", value: "<seconds>", help: "Give up on a turn with no terminal event after this long (default 600)" }],
  positionals: true,
  usageError: CHAT_USAGE,
  run: runChat,
};
