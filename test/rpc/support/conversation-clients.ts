// ABOUTME: Independent-client helpers for conversation tests: a StreamEvents reader over the proto-loader client and
// ABOUTME: a scripted agent (ThirdPartyAgentStream) that records the SendMessage frames it receives.
import * as grpc from "@grpc/grpc-js";
import {
  callUnary,
  clientServiceClient,
  covenControlClient,
  ThirdPartyAgentStream,
  type ServerFrame,
  type UnaryOutcome,
} from "../../support/proto-client.js";

type AnyClient = ReturnType<typeof clientServiceClient>;

/** One ClientStreamEvent as proto-loader decodes it: `payload` names the oneof case, snake_case keys. */
export interface StreamFrame {
  conversation_key: string;
  timestamp: string;
  payload: string;
  [key: string]: unknown;
}

/** A ledger `Event` as decoded by proto-loader. */
export interface EventFrame {
  id: string;
  conversation_key: string;
  direction: string;
  author: string;
  timestamp: string;
  type: string;
  text?: string;
  [key: string]: unknown;
}

/**
 * Drops proto-loader's synthetic oneof markers (`_text: "text"` for a set proto3 `optional`), recursively, so a
 * decoded message compares as the plain wire object: set optionals present, unset ones absent.
 */
export function plain<T>(value: T): T {
  if (Array.isArray(value)) return value.map(plain) as T;
  if (value === null || typeof value !== "object" || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (!key.startsWith("_")) out[key] = plain(inner);
  return out as T;
}

/** `callUnary` with the response passed through `plain`. */
export async function unary<T = Record<string, unknown>>(client: AnyClient, method: string, request: object, metadata?: grpc.Metadata): Promise<UnaryOutcome<T>> {
  const outcome = await callUnary<T>(client, method, request, metadata);
  return outcome.ok ? { ...outcome, response: plain(outcome.response) } : outcome;
}

/** RFC 3339 UTC with milliseconds, the only timestamp shape the services emit. */
export const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Reads one StreamEvents call: every frame in order, the headers (subscription open) and the final status. */
export class EventStreamReader {
  readonly call: grpc.ClientReadableStream<StreamFrame>;
  readonly frames: StreamFrame[] = [];
  /** Resolves once the server sent headers: the hub subscription exists from then on. */
  readonly headers: Promise<grpc.Metadata>;
  readonly status: Promise<grpc.StatusObject>;
  #waiters = new Set<() => void>();
  #isDone = false;

  constructor(client: AnyClient, request: { conversation_key: string; since_event_id?: string }, metadata = new grpc.Metadata()) {
    this.call = (client.StreamEvents as (req: object, md: grpc.Metadata) => grpc.ClientReadableStream<StreamFrame>).call(client, request, metadata);
    this.headers = new Promise((resolve) => this.call.once("metadata", resolve));
    this.status = new Promise((resolve) =>
      this.call.once("status", (status: grpc.StatusObject) => {
        this.#isDone = true;
        this.#wake();
        resolve(status);
      }),
    );
    this.call.on("error", () => {});
    this.call.on("data", (frame: StreamFrame) => {
      this.frames.push(plain(frame));
      this.#wake();
    });
  }

  /** The ledger events received, in order. */
  get events(): EventFrame[] {
    return this.frames.flatMap((f) => (f.payload === "event" ? [f.event as EventFrame] : []));
  }

  /** Waits until `check(frames)` holds; rejects after `timeoutMs` or when the call ended first. */
  async until(check: (frames: StreamFrame[]) => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.frames)) {
      if (this.#isDone) throw new Error(`stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  /** Waits for the first frame with this payload case (optionally matching) and returns it. */
  async next(payload: string, match: (f: StreamFrame) => boolean = () => true, timeoutMs = 5_000): Promise<StreamFrame> {
    const find = (frames: StreamFrame[]) => frames.find((f) => f.payload === payload && match(f));
    await this.until((frames) => find(frames) !== undefined, payload, timeoutMs);
    return find(this.frames) as StreamFrame;
  }

  /** Cancels the call (the client goes away) and waits for its CANCELLED status. */
  async cancel(): Promise<grpc.StatusObject> {
    this.call.cancel();
    return this.status;
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }
}

/** A real agent over gRPC: registers, then records every SendMessage the gateway dispatches to it. */
export class ScriptedAgent {
  readonly stream: ThirdPartyAgentStream;
  readonly client: ReturnType<typeof covenControlClient>;
  readonly messages: Array<Record<string, unknown>> = [];
  #onMessage: ((message: Record<string, unknown>) => void) | undefined;

  constructor(addr: string, onMessage?: (message: Record<string, unknown>) => void, metadata?: grpc.Metadata) {
    this.client = covenControlClient(addr);
    this.stream = new ThirdPartyAgentStream(this.client, metadata);
    this.#onMessage = onMessage;
    this.stream.call.on("error", () => {});
    this.stream.call.on("data", (frame: ServerFrame) => {
      if (frame.payload !== "send_message") return;
      const message = frame.send_message as Record<string, unknown>;
      this.messages.push(message);
      this.#onMessage?.(message);
    });
  }

  /** Registers with the token_usage and tool_states features and waits for Welcome. */
  static async connect(
    addr: string,
    agentId: string,
    options: { workspaces?: string[]; name?: string; onMessage?: (m: Record<string, unknown>) => void; metadata?: grpc.Metadata } = {},
  ): Promise<ScriptedAgent> {
    const agent = new ScriptedAgent(addr, options.onMessage, options.metadata);
    agent.stream.register(agentId, {
      name: options.name ?? agentId,
      protocol_features: ["token_usage", "tool_states"],
      metadata: {
        working_directory: `/work/${agentId}`,
        hostname: "agent-host",
        os: "linux",
        workspaces: options.workspaces ?? [],
        backend: "direct",
        git: { branch: "main", commit: "abc123", dirty: true, remote: "origin", ahead: 2, behind: 1 },
      },
    });
    await agent.stream.next("welcome");
    return agent;
  }

  /** Waits for the n-th (1-based) SendMessage and returns it. */
  async message(n: number, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for SendMessage #${n}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.messages[n - 1] as Record<string, unknown>;
  }

  respond(requestId: string, event: Record<string, unknown>): void {
    this.stream.respond(requestId, event);
  }

  /** Goes away abruptly and releases the channel. */
  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}

/** A ClientService client; remember to `close()` it. */
export function conversationClient(addr: string): AnyClient {
  return clientServiceClient(addr);
}
