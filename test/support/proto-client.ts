// ABOUTME: An independent gRPC client: @grpc/grpc-js loading proto/coven.proto at run time via proto-loader.
// ABOUTME: It shares no code with the gateway, the way a third-party agent or client would see the wire.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const PROTO_PATH = fileURLToPath(new URL("../../proto/coven.proto", import.meta.url));

/** The loaded `coven` package (plain objects, snake_case keys kept, longs as strings, enums as strings). */
export function loadCovenPackage(): grpc.GrpcObject {
  const definition = protoLoader.loadSync(PROTO_PATH, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return (grpc.loadPackageDefinition(definition) as unknown as { coven: grpc.GrpcObject }).coven;
}

type ClientCtor = new (address: string, credentials: grpc.ChannelCredentials, options?: object) => grpc.Client;

/** A CovenControl client bound to `addr`. */
export function covenControlClient(addr: string): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  const coven = loadCovenPackage();
  const Ctor = coven.CovenControl as unknown as ClientCtor;
  return new Ctor(addr, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
}

/** One message received on a duplex call, with the oneof case name resolved. */
export interface ServerFrame {
  payload: string;
  [key: string]: unknown;
}

/**
 * A bidi AgentStream opened by the independent client, with helpers to await frames and the final status.
 */
export class ThirdPartyAgentStream {
  readonly call: grpc.ClientDuplexStream<object, ServerFrame>;
  readonly received: ServerFrame[] = [];
  readonly status: Promise<grpc.StatusObject>;
  readonly headers: Promise<grpc.Metadata>;
  #waiters: Array<{ match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }> = [];
  #error: grpc.ServiceError | undefined;

  constructor(client: grpc.Client & Record<string, (...args: unknown[]) => unknown>, metadata = new grpc.Metadata()) {
    this.call = (client.AgentStream as (m: grpc.Metadata) => grpc.ClientDuplexStream<object, ServerFrame>).call(client, metadata);
    this.headers = new Promise((resolve) => this.call.once("metadata", resolve));
    this.status = new Promise((resolve) => this.call.once("status", resolve));
    this.call.on("data", (frame: ServerFrame) => {
      this.received.push(frame);
      for (const waiter of [...this.#waiters]) {
        if (waiter.match(frame)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(frame);
        }
      }
    });
    this.call.on("error", (err: grpc.ServiceError) => {
      this.#error = err;
    });
  }

  get error(): grpc.ServiceError | undefined {
    return this.#error;
  }

  send(message: object): void {
    this.call.write(message);
  }

  /** Waits for the first frame (already received or future) whose payload case is `payload`. */
  next(payload: string, predicate: (f: ServerFrame) => boolean = () => true, timeoutMs = 5_000): Promise<ServerFrame> {
    const match = (f: ServerFrame) => f.payload === payload && predicate(f);
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${payload}`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  register(agentId: string, extra: Record<string, unknown> = {}): void {
    this.send({
      register: {
        agent_id: agentId,
        name: agentId,
        capabilities: ["chat"],
        metadata: { working_directory: "/tmp/work", hostname: "host", os: "linux", workspaces: [], backend: "direct" },
        protocol_features: [],
        ...extra,
      },
    });
  }

  respond(requestId: string, event: Record<string, unknown>): void {
    this.send({ response: { request_id: requestId, ...event } });
  }

  /** Half-closes and waits for the final status. */
  async close(): Promise<grpc.StatusObject> {
    this.call.end();
    return this.status;
  }

  cancel(): void {
    this.call.cancel();
  }
}

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

function serviceClient(name: string, addr: string): AnyClient {
  const Ctor = loadCovenPackage()[name] as unknown as ClientCtor;
  return new Ctor(addr, grpc.credentials.createInsecure()) as AnyClient;
}

/** An AdminService client bound to `addr`. */
export function adminServiceClient(addr: string): AnyClient {
  return serviceClient("AdminService", addr);
}

/** A ClientService client bound to `addr`. */
export function clientServiceClient(addr: string): AnyClient {
  return serviceClient("ClientService", addr);
}

/** Metadata carrying `authorization: Bearer <token>`, plus any extra key/values. */
export function bearerMetadata(token: string | undefined, extra: Record<string, string> = {}): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
  return metadata;
}

/** The outcome of one unary call: the response, or the error status (code, details) — never a rejection. */
export type UnaryOutcome<T = Record<string, unknown>> =
  | { ok: true; response: T; code: grpc.status.OK }
  | { ok: false; code: grpc.status; details: string; response?: undefined };

/** Calls unary `method` on `client` and settles with its outcome. */
export function callUnary<T = Record<string, unknown>>(
  client: AnyClient,
  method: string,
  request: object,
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<UnaryOutcome<T>> {
  return new Promise((resolve) => {
    const fn = client[method] as (req: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: T) => void) => void;
    fn.call(client, request, metadata, (err, response) => {
      if (err) resolve({ ok: false, code: err.code, details: err.details });
      else resolve({ ok: true, response, code: grpc.status.OK });
    });
  });
}

/** A PackService client bound to `addr`. */
export function packServiceClient(addr: string): AnyClient {
  return serviceClient("PackService", addr);
}

/** One tool of a manifest, in proto-loader's snake_case shape. */
export interface WireToolDefinition {
  name: string;
  description?: string;
  input_schema_json?: string;
  required_capabilities?: string[];
  timeout_seconds?: number;
}

/**
 * A pack's `Register` stream opened by the independent client: the received headers ("registered"), every
 * `ExecuteToolRequest` read, and the final status. Results go back over `ToolResult` with `result`.
 */
export class ThirdPartyPack {
  readonly call: grpc.ClientReadableStream<{ tool_name: string; input_json: string; request_id: string }>;
  readonly requests: Array<{ tool_name: string; input_json: string; request_id: string }> = [];
  readonly headers: Promise<grpc.Metadata>;
  readonly status: Promise<grpc.StatusObject>;
  #client: AnyClient;
  #metadata: grpc.Metadata;
  #waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(client: AnyClient, manifest: { pack_id: string; version?: string; tools: WireToolDefinition[] }, metadata = new grpc.Metadata()) {
    this.#client = client;
    this.#metadata = metadata;
    this.call = (client.Register as (req: object, md: grpc.Metadata) => ThirdPartyPack["call"]).call(client, manifest, metadata);
    this.headers = new Promise((resolve) => this.call.once("metadata", resolve));
    this.status = new Promise((resolve) => this.call.once("status", resolve));
    this.call.on("data", (request: ThirdPartyPack["requests"][number]) => {
      this.requests.push(request);
      for (const waiter of [...this.#waiters]) {
        if (this.requests.length >= waiter.count) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
    this.call.on("error", () => {});
  }

  /** Resolves once `count` requests have arrived. */
  received(count: number, timeoutMs = 5_000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} pack requests`)), timeoutMs);
      this.#waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Sends `ToolResult` for `requestId` with the caller's metadata. */
  result(requestId: string, result: { output_json: string } | { error: string } | Record<string, never>): Promise<UnaryOutcome> {
    return callUnary(this.#client, "ToolResult", { request_id: requestId, ...result }, this.#metadata);
  }

  cancel(): void {
    this.call.cancel();
  }
}
