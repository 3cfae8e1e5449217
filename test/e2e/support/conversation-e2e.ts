// ABOUTME: Helpers for the whole-gateway "Conversations" tests: cleanups, agents with chosen protocol features,
// ABOUTME: StreamEvents subscribers, an SSE send session that can be awaited frame by frame, and ledger reads over gRPC.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "../../support/gateway-harness.js";
import { postSse, type SseFrame, type SseResponse } from "../../support/sse-client.js";
import { conversationClient, EventStreamReader, ScriptedAgent, unary, type EventFrame } from "../../rpc/support/conversation-clients.js";

type Cleanup = () => void | Promise<void>;

/** A stack of teardown steps run in reverse; every step runs even when an earlier one throws. */
export interface Cleanups {
  add(fn: Cleanup): void;
  run(): Promise<void>;
}

/** Creates a cleanup stack; call `run` from `afterEach`. Rethrows the first teardown error after running all. */
export function createCleanups(): Cleanups {
  const steps: Cleanup[] = [];
  return {
    add: (fn) => void steps.push(fn),
    async run() {
      const errors: unknown[] = [];
      for (const fn of steps.splice(0).reverse()) {
        try {
          await fn();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
}

/** Starts a real gateway (temp SQLite file, loopback ports) whose stop is registered in `cleanups`. */
export async function startGateway(cleanups: Cleanups, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  cleanups.add(() => gw.stop());
  return gw;
}

export type ClientServiceClient = ReturnType<typeof conversationClient>;

/** A ClientService client (proto-loader, nothing of the gateway's) closed by `cleanups`. */
export function openClient(cleanups: Cleanups, addr: string): ClientServiceClient {
  const client = conversationClient(addr);
  cleanups.add(() => client.close());
  return client;
}

const PROTO_DIR = fileURLToPath(new URL("../../../proto/", import.meta.url));

/** A coven.gateway.v1.GatewayService client loaded from the .proto at run time, closed by `cleanups`. */
export function openGatewayV1Client(cleanups: Cleanups, addr: string): ClientServiceClient {
  const definition = protoLoader.loadSync("coven/gateway/v1/gateway.proto", {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    coven: { gateway: { v1: { GatewayService: new (addr: string, creds: grpc.ChannelCredentials) => ClientServiceClient } } };
  };
  const client = new loaded.coven.gateway.v1.GatewayService(addr, grpc.credentials.createInsecure());
  cleanups.add(() => client.close());
  return client;
}

export interface AgentOptions {
  /** `protocol_features`; default `token_usage`, `tool_states`. */
  features?: string[];
  name?: string;
  workingDir?: string;
  metadata?: grpc.Metadata;
}

export interface ConnectedAgent {
  agent: ScriptedAgent;
  /** The Welcome frame as proto-loader decodes it (agent_id, instance_id, principal_id, ...). */
  welcome: Record<string, unknown>;
}

/** Connects a recording agent over CovenControl.AgentStream, waits for Welcome, and registers its teardown. */
export async function connectAgent(cleanups: Cleanups, addr: string, agentId: string, options: AgentOptions = {}): Promise<ConnectedAgent> {
  const agent = new ScriptedAgent(addr, undefined, options.metadata);
  cleanups.add(() => agent.close());
  agent.stream.register(agentId, {
    name: options.name ?? agentId,
    protocol_features: options.features ?? ["token_usage", "tool_states"],
    metadata: {
      working_directory: options.workingDir ?? `/work/${agentId}`,
      hostname: "agent-host",
      os: "linux",
      workspaces: [],
      backend: "direct",
    },
  });
  const frame = await agent.stream.next("welcome");
  return { agent, welcome: frame.welcome as Record<string, unknown> };
}

/** Opens StreamEvents and waits for its headers: from then on the hub subscription exists. */
export async function subscribe(
  cleanups: Cleanups,
  client: ClientServiceClient,
  request: { conversation_key: string; since_event_id?: string },
  metadata?: grpc.Metadata,
): Promise<EventStreamReader> {
  const reader = new EventStreamReader(client, request, metadata);
  cleanups.add(() => reader.call.cancel());
  await reader.headers;
  return reader;
}

/** SendMessage with an idempotency key; returns the message_id or throws with the status details. */
export async function sendMessage(
  client: ClientServiceClient,
  conversationKey: string,
  content: string,
  idempotencyKey: string,
  metadata?: grpc.Metadata,
): Promise<string> {
  const result = await unary<{ status: string; message_id: string }>(
    client,
    "SendMessage",
    { idempotency_key: idempotencyKey, conversation_key: conversationKey, content },
    metadata,
  );
  if (!result.ok) throw new Error(`SendMessage failed: ${result.details}`);
  return result.response.message_id;
}

/** Every ledger event of a conversation, oldest first, read over GetEvents page by page. */
export async function conversationEvents(client: ClientServiceClient, conversationKey: string, metadata?: grpc.Metadata): Promise<EventFrame[]> {
  const events: EventFrame[] = [];
  let cursor = "";
  for (;;) {
    const page = await unary<{ events: EventFrame[]; has_more: boolean; next_cursor?: string }>(
      client,
      "GetEvents",
      { conversation_key: conversationKey, limit: 500, cursor },
      metadata,
    );
    if (!page.ok) throw new Error(`GetEvents failed: ${page.details}`);
    events.push(...page.response.events);
    if (!page.response.has_more) return events;
    cursor = page.response.next_cursor ?? "";
  }
}

/** Polls `check` every few ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Settles like `promise`, or rejects naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A JSON request to the HTTP edge; returns the status and the parsed body (undefined when empty). */
export async function httpJson(url: string, method = "GET", body?: unknown): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const response = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

/**
 * One POST /api/send (or another SSE route) read while it streams: await named frames as they arrive, and the
 * whole response once the server ends it. Aborted by `cleanups` if still open.
 */
export class SseSession {
  readonly frames: SseFrame[] = [];
  /** The whole response, once the server ended the stream (or it was aborted). */
  readonly result: Promise<SseResponse>;
  #controller = new AbortController();
  #waiters = new Set<() => void>();
  #isDone = false;

  constructor(cleanups: Cleanups, url: string, body: unknown) {
    this.result = postSse(url, body, {
      signal: this.#controller.signal,
      onFrame: (frame) => {
        this.frames.push(frame);
        this.#wake();
      },
    }).finally(() => {
      this.#isDone = true;
      this.#wake();
    });
    this.result.catch(() => {});
    cleanups.add(() => this.abort());
  }

  /** Waits for the first frame named `event` (already received or future) and returns its JSON data. */
  async next(event: string, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.find((f) => f.event === event);
      if (frame) return frame.json;
      if (this.#isDone) throw new Error(`SSE stream ended before '${event}' (got ${this.frames.map((f) => f.event).join(", ")})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for SSE '${event}'`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.#waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  /** The whole response, or a rejection after `timeoutMs`. */
  ended(timeoutMs = 5_000): Promise<SseResponse> {
    return within(this.result, timeoutMs, "the SSE stream to end");
  }

  /** The client goes away. */
  abort(): void {
    this.#controller.abort();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

/** The event names of a finished SSE response, in order. */
export function eventNames(response: SseResponse): string[] {
  return response.frames.map((f) => f.event);
}
