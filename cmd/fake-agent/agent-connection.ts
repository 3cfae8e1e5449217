// ABOUTME: One AgentStream connection of the fake agent: register, await Welcome, dispatch gateway frames (cli.md §4.2-4.3).
// ABOUTME: Each send_message runs as its own task; all frames go through one Outbox; ends are classified for exit codes.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import * as pb from "../../src/gen/coven_pb.js";
import { grpcFailure } from "./grpc-status.js";
import type { FakeAgentOptions } from "./options.js";
import { Outbox } from "./outbox.js";
import { runRequest, type RequestIo } from "./request-runner.js";
import { echoSteps, selectSteps } from "./template.js";
import type { Tracer } from "./trace.js";
import { Waiters } from "./waiters.js";

/** How a connection ended. */
export type ConnectionEnd =
  | { kind: "shutdown"; reason: string }
  | { kind: "closed" }
  | { kind: "disconnected" }
  | { kind: "error"; status: string; detail: string }
  | { kind: "eof" };

/** Registration did not reach Welcome; `exitCode` is 3 (cli.md §4.2). */
export class RegistrationFailure extends Error {
  readonly exitCode = 3;
  /** The gRPC status name when the call failed, `rejected` for a registration_error, else how the stream ended. */
  readonly status: string;

  constructor(message: string, status: string) {
    super(message);
    this.name = "RegistrationFailure";
    this.status = status;
  }

  /** A gateway that is down or restarting, as opposed to one that refused us: `-reconnect` retries these. */
  get isTransient(): boolean {
    return ["UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELED", "shutdown", "eof"].includes(this.status);
  }
}

/** Longest message content quoted in the fake agent's log lines; the trace keeps the whole message. */
export const LOG_CONTENT_CHARS = 120;

/** `content` for a log line: at most LOG_CONTENT_CHARS characters, newlines shown as `\n`, the full length named. */
export function logExcerpt(content: string): string {
  const flat = content.replace(/\r?\n/g, "\\n");
  if (flat.length <= LOG_CONTENT_CHARS) return flat;
  return `${flat.slice(0, LOG_CONTENT_CHARS)}… (${content.length} chars)`;
}

export interface ConnectionDeps {
  options: FakeAgentOptions;
  tracer: Tracer;
  log: (line: string) => void;
  /** Call metadata (auth headers), computed fresh for every connection. */
  headers: Record<string, string>;
}

const CLOSE_GRACE_MS = 2_000;
const TERMINAL = new Set(["done", "error", "cancelled"]);

/** A live AgentStream. Create with `AgentConnection.open`. */
export class AgentConnection {
  readonly #deps: ConnectionDeps;
  readonly #outbox: Outbox;
  readonly #abort = new AbortController();
  readonly #session: Http2SessionManager;
  /** Requests without a terminal frame yet (a hung request stays here), by request_id. */
  readonly #requests = new Map<string, AbortController>();
  readonly #approvals = new Waiters<pb.ToolApprovalResponse>();
  readonly #packResults = new Waiters<pb.PackToolResult>();
  #welcome: pb.Welcome | undefined;
  #rejected: string | undefined;
  #ourEnd: ConnectionEnd | undefined;
  #shutdownReason: string | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #resolveWelcome!: (welcome: pb.Welcome) => void;
  #rejectWelcome!: (err: RegistrationFailure) => void;
  readonly #welcomed: Promise<pb.Welcome>;
  /** Resolves once when the stream is over, however it ended. */
  readonly ended: Promise<ConnectionEnd>;

  private constructor(deps: ConnectionDeps) {
    this.#deps = deps;
    this.#outbox = new Outbox((msg) => deps.tracer.out(msg));
    this.#session = new Http2SessionManager(`http://${deps.options.addr}`);
    this.#welcomed = new Promise((resolve, reject) => {
      this.#resolveWelcome = resolve;
      this.#rejectWelcome = reject;
    });
    this.ended = this.#run();
  }

  /** Opens a stream and registers. Resolves after Welcome; rejects with RegistrationFailure otherwise. */
  static async open(deps: ConnectionDeps): Promise<{ connection: AgentConnection; welcome: pb.Welcome }> {
    const connection = new AgentConnection(deps);
    const welcome = await connection.#welcomed;
    return { connection, welcome };
  }

  /** Queues a `Heartbeat{timestamp_ms: now}`. */
  sendHeartbeat(): void {
    this.#outbox.push(create(pb.AgentMessageSchema, { payload: { case: "heartbeat", value: { timestampMs: BigInt(Date.now()) } } }));
  }

  /** Graceful end: stop requests, half-close, and wait (bounded) for the gateway to end the stream. */
  async close(): Promise<void> {
    if (this.#ourEnd === undefined) this.#ourEnd = { kind: "closed" };
    this.#stopRequests();
    this.#outbox.end();
    this.#armGraceTimer();
    await this.ended;
  }

  /** Abrupt end: reset the stream without a half-close (the `disconnect` step). */
  disconnect(): void {
    if (this.#ourEnd === undefined) this.#ourEnd = { kind: "disconnected" };
    this.#stopRequests();
    this.#outbox.abort();
    this.#abort.abort();
    this.#session.abort();
  }

  async #run(): Promise<ConnectionEnd> {
    const { options, tracer } = this.#deps;
    const transport = createGrpcTransport({ baseUrl: `http://${options.addr}`, sessionManager: this.#session });
    const client = createClient(pb.CovenControl, transport);
    this.#outbox.push(
      create(pb.AgentMessageSchema, {
        payload: {
          case: "register",
          value: {
            agentId: options.id,
            name: options.name,
            capabilities: options.capabilities,
            metadata: { workingDirectory: options.workdir, hostname: "e2e-test", os: "test", backend: options.backend, workspaces: options.workspaces },
            protocolFeatures: options.features,
          },
        },
      }),
    );
    let end: ConnectionEnd;
    try {
      for await (const msg of client.agentStream(this.#outbox, { headers: this.#deps.headers, signal: this.#abort.signal })) {
        tracer.in(msg);
        this.#dispatch(msg);
      }
      end = this.#classify(undefined);
    } catch (err) {
      end = this.#classify(err);
    }
    this.#finish(end);
    return end;
  }

  #classify(err: unknown): ConnectionEnd {
    if (this.#shutdownReason !== undefined) return { kind: "shutdown", reason: this.#shutdownReason };
    if (this.#ourEnd !== undefined) return this.#ourEnd;
    if (err === undefined) return { kind: "eof" };
    return { kind: "error", ...grpcFailure(err) };
  }

  #finish(end: ConnectionEnd): void {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#graceTimer);
    this.#stopRequests();
    this.#outbox.abort();
    this.#session.abort();
    if (this.#welcome !== undefined) return;
    if (this.#rejected !== undefined) this.#rejectWelcome(new RegistrationFailure(this.#rejected, "rejected"));
    else if (end.kind === "error") this.#rejectWelcome(new RegistrationFailure(`registration failed: ${end.status}: ${end.detail}`, end.status));
    else if (end.kind === "shutdown") this.#rejectWelcome(new RegistrationFailure(`registration failed: shutdown before welcome: ${end.reason}`, "shutdown"));
    else this.#rejectWelcome(new RegistrationFailure("registration failed: stream ended before welcome", "eof"));
  }

  #armGraceTimer(): void {
    if (this.#graceTimer !== undefined) return;
    this.#graceTimer = setTimeout(() => {
      this.#abort.abort();
      this.#session.abort();
    }, CLOSE_GRACE_MS);
  }

  #stopRequests(): void {
    for (const controller of this.#requests.values()) controller.abort();
    this.#requests.clear();
  }

  #dispatch(msg: pb.ServerMessage): void {
    const { log, options } = this.#deps;
    const p = msg.payload;
    if (this.#welcome === undefined) {
      if (p.case === "welcome") {
        this.#welcome = p.value;
        log(`registered as ${p.value.agentId} (instance: ${p.value.instanceId})`);
        if (options.heartbeatMs > 0) this.#heartbeat = setInterval(() => this.sendHeartbeat(), options.heartbeatMs);
        this.#resolveWelcome(p.value);
      } else if (p.case === "registrationError") {
        this.#rejected = `registration rejected: ${p.value.reason} (suggested: ${p.value.suggestedId})`;
        this.disconnect();
      } else {
        log(`ignoring ${p.case ?? "empty"} frame before welcome`);
      }
      return;
    }
    switch (p.case) {
      case "sendMessage":
        this.#startRequest(p.value);
        return;
      case "cancelRequest":
        this.#cancel(p.value);
        return;
      case "toolApproval":
        if (!this.#approvals.deliver(p.value.id, p.value)) log(`unmatched tool approval ${p.value.id}`);
        return;
      case "packToolResult":
        if (!this.#packResults.deliver(p.value.requestId, p.value)) log(`unmatched pack tool result ${p.value.requestId}`);
        return;
      case "injectContext":
        if (options.features.includes("injection")) {
          this.#outbox.push(
            create(pb.AgentMessageSchema, { payload: { case: "injectionAck", value: { injectionId: p.value.injectionId, accepted: true } } }),
          );
        } else {
          log(`ignoring inject_context ${p.value.injectionId} (injection feature not declared)`);
        }
        return;
      case "shutdown":
        this.#shutdownReason = p.value.reason;
        log(`shutdown: ${p.value.reason}`);
        this.#stopRequests();
        this.#outbox.end();
        this.#armGraceTimer();
        return;
      default:
        log(`ignoring unexpected ${p.case ?? "empty"} frame`);
    }
  }

  #cancel(cancel: pb.CancelRequest): void {
    const { log, options } = this.#deps;
    if (!options.features.includes("cancellation")) {
      log(`ignoring cancel for ${cancel.requestId} (cancellation feature not declared)`);
      return;
    }
    const controller = this.#requests.get(cancel.requestId);
    if (controller === undefined) {
      log(`ignoring cancel for ${cancel.requestId} (request not running)`);
      return;
    }
    controller.abort();
    this.#requests.delete(cancel.requestId);
    const reason = cancel.reason ? cancel.reason : "canceled";
    const response = create(pb.MessageResponseSchema, { requestId: cancel.requestId, event: { case: "cancelled", value: { reason } } });
    this.#outbox.push(create(pb.AgentMessageSchema, { payload: { case: "response", value: response } }));
  }

  #startRequest(message: pb.SendMessage): void {
    const { log, options } = this.#deps;
    log(`received message [${message.requestId}]: ${logExcerpt(message.content)}`);
    this.#requests.get(message.requestId)?.abort();
    const controller = new AbortController();
    this.#requests.set(message.requestId, controller);
    const selected = selectSteps(options.script, message.content);
    const io: RequestIo = {
      send: (msg) => {
        if (msg.payload.case === "response" && TERMINAL.has(msg.payload.value.event.case ?? "")) {
          if (this.#requests.get(message.requestId) === controller) this.#requests.delete(message.requestId);
        }
        this.#outbox.push(msg);
      },
      waitApproval: (id, timeoutMs, signal) => this.#approvals.wait(id, timeoutMs, signal),
      waitPackResult: (requestId, timeoutMs, signal) => this.#packResults.wait(requestId, timeoutMs, signal),
      disconnect: async () => {
        await this.#outbox.whenIdle();
        this.disconnect();
      },
      uuid: () => randomUUID(),
    };
    runRequest({
      steps: selected?.steps ?? echoSteps(message.content, options.chunks, options.chunkDelayMs, options.doneDelayMs),
      ctx: {
        message: message.content,
        requestId: message.requestId,
        threadId: message.threadId,
        sender: message.sender,
        groups: selected?.groups ?? [message.content],
        lastResult: "",
      },
      templated: selected !== undefined,
      signal: controller.signal,
      io,
    }).catch((err: unknown) => log(`request ${message.requestId} failed: ${(err as Error).message}`));
  }
}
