// ABOUTME: `coven-admin chat <agent-id> [message…]` (cli.md §3.9): one StreamEvents opened before the first send,
// ABOUTME: every turn ends on its terminal payload; TTY prompts for approvals/questions; Ctrl-C cancels via the API.
import { randomBytes } from "node:crypto";
import type * as pb from "../../src/gen/coven_pb.js";
import { paint, printError, type CliIo } from "../coven-gateway/cli-io.js";
import { grpcFailure } from "../fake-agent/grpc-status.js";
import { askApproval, createLineSource, MAX_LINE_BYTES, printQuestion, questionPrompt, parseQuestionAnswer, type LineSource } from "./chat-prompts.js";
import type { AdminIo, Leaf, Parsed } from "./command.js";
import { type Clients, type Connection } from "./connection.js";
import { failCall, failUsage } from "./output.js";
import { withGateway } from "./session.js";
import { startSpinner, type Spinner } from "./spinner.js";

type TurnEnd = { ok: true } | { ok: false; message: string };

interface Turn {
  messageId: string | undefined;
  seenOwnEvent: boolean;
  sawTransient: boolean;
  /** `event` payloads that arrived before SendMessage returned the message id. */
  early: pb.Event[];
  /** Aborted when the turn ends, so a prompt still waiting for an answer stops waiting. */
  abort: AbortController;
  spinner: Spinner;
  end(result: TurnEnd): void;
}

const TERMINAL_ROW_TYPES = new Set(["message", "error", "system"]);

/** A minimal one-shot promise whose resolver can be called from outside. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Answers approvals and questions at the terminal, one prompt at a time, through the shared line source. */
class Prompter {
  #chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly io: CliIo,
    private readonly clients: Clients,
    private readonly agentId: string,
    private readonly lines: () => LineSource,
  ) {}

  enqueue(task: () => Promise<void>): void {
    this.#chain = this.#chain.then(task).catch((err: unknown) => printError(this.io, (err as Error).message));
  }

  async approval(turn: Turn, req: pb.ClientToolApprovalRequest): Promise<void> {
    if (turn.abort.signal.aborted) return;
    const answer = await askApproval(this.io, this.lines(), req, turn.abort.signal);
    if (answer === undefined) {
      this.io.stdout.write("\n");
      return;
    }
    try {
      const res = await this.clients.client.approveTool({ agentId: req.agentId || this.agentId, toolId: req.toolId, ...answer });
      if (!res.success) printError(this.io, `ApproveTool: ${res.error ?? "refused"}`);
    } catch (err) {
      const { status, detail } = grpcFailure(err);
      printError(this.io, `ApproveTool: ${status}: ${detail}`);
    }
  }

  async question(turn: Turn, q: pb.UserQuestionRequest): Promise<void> {
    printQuestion(this.io, q);
    for (;;) {
      if (turn.abort.signal.aborted) return;
      this.io.stdout.write(paint(this.io, this.io.stdout, ["yellow"], questionPrompt(q)));
      const line = await this.lines().next(turn.abort.signal);
      if (line === null) {
        this.io.stdout.write("\n");
        return;
      }
      const answer = parseQuestionAnswer(line, q.options);
      if (answer === undefined) {
        this.io.stdout.write(paint(this.io, this.io.stdout, ["red"], `expected a number from 1 to ${q.options.length}, or an answer in words`) + "\n");
        continue;
      }
      let res: pb.AnswerQuestionResponse;
      try {
        res = await this.clients.client.answerQuestion({ agentId: q.agentId || this.agentId, questionId: q.questionId, ...answer });
      } catch (err) {
        const { status, detail } = grpcFailure(err);
        printError(this.io, `AnswerQuestion: ${status}: ${detail}`);
        return;
      }
      if (res.success) return;
      this.io.stdout.write(paint(this.io, this.io.stdout, ["red"], res.error ?? "answer refused") + "\n");
    }
  }
}

/** The one StreamEvents subscription of a chat session, rendering payloads into whichever turn is active. */
class ChatStream {
  turn: Turn | undefined;
  #abort = new AbortController();
  #ended = false;
  /** Whether stdout's last character was a newline, so `^C canceled` starts on a line of its own. */
  atLineStart = true;

  constructor(
    private readonly io: CliIo,
    private readonly clients: Clients,
    private readonly agentId: string,
    private readonly prompter: Prompter | undefined,
  ) {}

  get isEnded(): boolean {
    return this.#ended;
  }

  /** Opens the stream and waits for its headers or first message, at most 2 s. */
  async open(): Promise<void> {
    this.#abort = new AbortController();
    this.#ended = false;
    const ready = deferred<void>();
    const stream = this.clients.client.streamEvents({ conversationKey: this.agentId }, { signal: this.#abort.signal, onHeader: () => ready.resolve() });
    void (async () => {
      try {
        for await (const ev of stream) {
          ready.resolve();
          this.#handle(ev);
        }
      } catch (err) {
        if (!this.#abort.signal.aborted) this.turn?.end({ ok: false, message: `stream ended: ${(err as Error).message}` });
      } finally {
        this.#ended = true;
        ready.resolve();
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
  }

  close(): void {
    this.#abort.abort();
  }

  out(text: string): void {
    if (text === "") return;
    this.io.stdout.write(text);
    this.atLineStart = text.endsWith("\n");
  }

  #handle(ev: pb.ClientStreamEvent): void {
    const turn = this.turn;
    if (turn === undefined) return;
    const p = ev.payload;
    if (p.case !== "event") {
      turn.sawTransient = true;
      turn.spinner.stop();
    }
    const tty = this.io.stdout.isTTY === true;
    switch (p.case) {
      case "text":
        this.out(p.value.content);
        break;
      case "thinking":
        if (tty) this.out(paint(this.io, this.io.stdout, ["dim"], `\u001b[3m${p.value.content}`));
        break;
      case "toolUse":
        this.out(paint(this.io, this.io.stdout, ["yellow"], `\n[tool: ${p.value.name}]`) + "\n");
        break;
      case "toolResult":
        if (p.value.isError) this.out(paint(this.io, this.io.stdout, ["red"], `  ${p.value.output}`) + "\n");
        else if (p.value.output !== "") this.out(`  ${p.value.output}\n`);
        break;
      case "toolApproval": {
        const req = p.value;
        if (this.prompter) this.prompter.enqueue(() => this.prompter!.approval(turn, req));
        else this.out(`[approval required: ${req.toolName} (tool_id ${req.toolId}); approve it in the web admin]\n`);
        break;
      }
      case "userQuestion": {
        const q = p.value;
        if (this.prompter) this.prompter.enqueue(() => this.prompter!.question(turn, q));
        else this.out(`[question pending: ${q.question} (question_id ${q.questionId})]\n`);
        break;
      }
      case "done":
        this.out("\n");
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
    turn.spinner.stop();
    if (row.type === "message") {
      this.out(`${row.text ?? ""}\n`);
      turn.end({ ok: true });
    } else turn.end({ ok: false, message: row.text ?? row.type });
  }
}

type TurnOutcome =
  | { kind: "end"; result: TurnEnd }
  | { kind: "send-failed"; err: unknown }
  | { kind: "timeout" }
  /** Ctrl-C: the cancel API was called and `^C canceled` printed. */
  | { kind: "interrupted" }
  /** A second Ctrl-C (or one at the REPL prompt): leave now with 130. */
  | { kind: "exit" };

/** The turn in flight, as Ctrl-C sees it. */
interface ActiveTurn {
  turn: Turn;
  messageId: Promise<string | undefined>;
  canceling: boolean;
  interrupted: { promise: Promise<"interrupted">; resolve: (v: "interrupted") => void };
}

/** `<http base>` of the cancel call: `$COVEN_GATEWAY_URL`, else `http://$COVEN_GATEWAY_HOST:8080`, else localhost. */
export function chatHttpBase(env: NodeJS.ProcessEnv): string {
  const base = env.COVEN_GATEWAY_URL || (env.COVEN_GATEWAY_HOST ? `http://${env.COVEN_GATEWAY_HOST}:8080` : "http://localhost:8080");
  return base.replace(/\/+$/, "");
}

/** One chat command: the stream, the turns over it, stdin, and what Ctrl-C does at each moment. */
class ChatSession {
  readonly stream: ChatStream;
  #lines: LineSource | undefined;
  #active: ActiveTurn | undefined;
  readonly #exit = deferred<"exit">();
  readonly #http = new AbortController();

  constructor(
    private readonly io: AdminIo,
    private readonly clients: Clients,
    private readonly conn: Connection,
    private readonly agentId: string,
    private readonly timeoutMs: number,
  ) {
    const interactive = io.stdin?.isTTY === true && io.stdout.isTTY === true;
    const prompter = interactive ? new Prompter(io, clients, agentId, () => this.lines()) : undefined;
    this.stream = new ChatStream(io, clients, agentId, prompter);
  }

  /** stdin as lines, opened on first use so a one-shot chat without prompts never touches stdin. */
  lines(): LineSource {
    this.#lines ??= createLineSource(this.io.stdin ?? process.stdin);
    return this.#lines;
  }

  /** Resolves "exit" on a second Ctrl-C, or a Ctrl-C while no turn runs. */
  get exitRequested(): Promise<"exit"> {
    return this.#exit.promise;
  }

  close(): void {
    this.#http.abort();
    this.stream.close();
    this.#lines?.close();
  }

  /** Ctrl-C: the first during a turn cancels it through the cancel API; a second, or one between turns, exits. */
  interrupt(): void {
    const active = this.#active;
    if (active === undefined || active.canceling) {
      if (!this.stream.atLineStart) this.io.stdout.write("\n");
      this.#exit.resolve("exit");
      return;
    }
    active.canceling = true;
    active.turn.spinner.stop();
    active.turn.abort.abort();
    // Whatever the stream delivers from now on (the agent's `canceled` error) belongs to no turn.
    this.stream.turn = undefined;
    void (async () => {
      const id = await active.messageId;
      const failure = id === undefined ? undefined : await this.#cancel(id);
      // A second Ctrl-C already ended the command.
      if (this.#http.signal.aborted) return;
      if (!this.stream.atLineStart) this.io.stdout.write("\n");
      this.stream.atLineStart = true;
      this.io.stdout.write("^C canceled\n");
      if (failure !== undefined) this.io.stderr.write(paint(this.io, this.io.stderr, ["dim"], failure) + "\n");
      active.interrupted.resolve("interrupted");
    })();
  }

  /** POSTs the cancel API (http-api.md §8); returns a line describing a failure, or undefined. */
  async #cancel(messageId: string): Promise<string | undefined> {
    const url = `${chatHttpBase(this.io.env)}/api/requests/${encodeURIComponent(messageId)}/cancel`;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.conn.token !== undefined) headers.authorization = `Bearer ${this.conn.token}`;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ reason: "user_requested" }),
        signal: AbortSignal.any([this.#http.signal, AbortSignal.timeout(5_000)]),
      });
      if (res.ok) return undefined;
      let detail = "";
      try {
        detail = String(((await res.json()) as { error?: unknown }).error ?? "");
      } catch {
        detail = res.statusText;
      }
      return `cancel failed: ${res.status} ${detail}`.trimEnd();
    } catch (err) {
      if (this.#http.signal.aborted) return undefined;
      return `cancel failed: ${(err as Error).message}`;
    }
  }

  /** Sends one message and waits for the turn's terminal payload, at most `timeoutMs`, or for Ctrl-C. */
  async runTurn(content: string): Promise<TurnOutcome> {
    const ended = deferred<TurnEnd>();
    const spinner = startSpinner(this.io.stderr, `waiting for ${this.agentId}`);
    const turn: Turn = {
      messageId: undefined,
      seenOwnEvent: false,
      sawTransient: false,
      early: [],
      abort: new AbortController(),
      spinner,
      end: (r) => {
        spinner.stop();
        ended.resolve(r);
      },
    };
    this.stream.turn = turn;
    this.stream.atLineStart = true;
    const send = this.clients.client.sendMessage({ conversationKey: this.agentId, content, idempotencyKey: randomBytes(16).toString("hex") }).then(
      (res) => ({ ok: true as const, res }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    const active: ActiveTurn = {
      turn,
      messageId: send.then((r) => (r.ok ? r.res.messageId : undefined)),
      canceling: false,
      interrupted: deferred<"interrupted">(),
    };
    this.#active = active;
    let timer: NodeJS.Timeout | undefined;
    try {
      const sent = await Promise.race([send, active.interrupted.promise, this.#exit.promise]);
      if (sent === "interrupted" || sent === "exit") return { kind: sent };
      if (!sent.ok) return { kind: "send-failed", err: sent.err };
      turn.messageId = sent.res.messageId;
      for (const row of turn.early.splice(0)) this.stream.ledgerRow(turn, row);
      const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), this.timeoutMs)));
      const result = await Promise.race([ended.promise, timeout, active.interrupted.promise, this.#exit.promise]);
      if (typeof result === "string") return { kind: result };
      return { kind: "end", result };
    } finally {
      clearTimeout(timer);
      spinner.stop();
      turn.abort.abort();
      if (this.stream.turn === turn) this.stream.turn = undefined;
      this.#active = undefined;
    }
  }
}

const CHAT_USAGE = "usage: chat <agent-id> [message]";

/** Runs `chat`; exit 0 after a successful one-shot turn or Ctrl+D in the REPL, 1 on errors, 130 on Ctrl-C. */
async function runChat({ values, positionals }: Parsed, io: AdminIo): Promise<number> {
  const [agentId, ...words] = positionals;
  if (!agentId) return failUsage(io, CHAT_USAGE);
  const timeoutText = (values.timeout as string | undefined) ?? "600";
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) <= 0) return failUsage(io, `invalid timeout: "${timeoutText}" is not a positive number of seconds`);
  const timeoutMs = Number(timeoutText) * 1_000;

  return withGateway(io, async (clients, conn) => {
    const session = new ChatSession(io, clients, conn, agentId, timeoutMs);
    const stopListening = io.onInterrupt?.(() => session.interrupt());
    try {
      await session.stream.open();
      if (words.length > 0) return await oneShot(io, session, conn, words.join(" "));
      return await repl(io, session, conn, agentId);
    } finally {
      stopListening?.();
      session.close();
    }
  });
}

async function oneShot(io: CliIo, session: ChatSession, conn: Connection, content: string): Promise<number> {
  const outcome = await session.runTurn(content);
  switch (outcome.kind) {
    case "send-failed":
      return failCall(io, "SendMessage", outcome.err, conn);
    case "timeout":
      printError(io, "timed out waiting for agent response");
      return 1;
    case "interrupted":
    case "exit":
      return 130;
    case "end":
      if (outcome.result.ok) return 0;
      printError(io, `agent error: ${outcome.result.message}`);
      return 1;
  }
}

async function repl(io: CliIo, session: ChatSession, conn: Connection, agentId: string): Promise<number> {
  io.stdout.write(paint(io, io.stdout, ["cyan"], `Chat with agent ${agentId} (Ctrl+D to exit)`) + "\n\n");
  const prompt = () => io.stdout.write(paint(io, io.stdout, ["green"], "> "));
  const stream = session.stream;
  for (;;) {
    prompt();
    stream.atLineStart = false;
    const line = await Promise.race([session.lines().next(), session.exitRequested]);
    if (line === "exit") return 130;
    if (line === null) break;
    if (Buffer.byteLength(line) > MAX_LINE_BYTES || line.trim() === "") continue;
    if (stream.isEnded) await stream.open();
    const outcome = await session.runTurn(line);
    if (outcome.kind === "exit") return 130;
    if (outcome.kind === "send-failed") failCall(io, "SendMessage", outcome.err, conn);
    else if (outcome.kind === "timeout") printError(io, "timed out waiting for agent response");
    else if (outcome.kind === "end" && !outcome.result.ok) io.stdout.write(paint(io, io.stdout, ["red"], `agent error: ${outcome.result.message}`) + "\n");
    io.stdout.write("\n");
  }
  io.stdout.write("\n");
  return 0;
}

export const CHAT: Leaf = {
  kind: "leaf",
  name: "chat",
  synopsis: "chat <agent-id> [message...] [--timeout <seconds>]",
  summary:
    "Chat with an agent. With a message: send it, print the reply, exit 0 when the agent is done (1 on an agent error).\n" +
    "Without one: a REPL over one event stream; Ctrl+D exits. Ctrl+C cancels the running turn through the gateway's\n" +
    "cancel API (one-shot then exits 130; the REPL returns to its prompt); a second Ctrl+C exits at once.\n" +
    "On a terminal, tool approvals and agent questions are answered at the prompt; elsewhere they are listed\n" +
    "and wait for the web admin. Use -- before a message that starts with a dash.",
  flags: [{ name: "timeout", type: "string", value: "<seconds>", help: "Give up on a turn with no terminal event after this long (default 600)" }],
  positionals: true,
  usageError: CHAT_USAGE,
  run: runChat,
};
