// ABOUTME: A minimal in-process CovenControl.AgentStream server (grpc-js) for testing the fake agent without the gateway.
// ABOUTME: Answers register with Welcome (or a scripted failure), lets tests push ServerMessages and collect AgentMessages.
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import * as pb from "../../../src/gen/coven_pb.js";

type ServerInit = MessageInitShape<typeof pb.ServerMessageSchema>;

/** How the server answers a connection's register frame. */
export type RegisterReply =
  | { welcome?: MessageInitShape<typeof pb.WelcomeSchema> }
  | { registrationError: { reason: string; suggestedId: string }; thenStatus?: { code: grpc.status; details: string } }
  | { status: { code: grpc.status; details: string } };

export interface FakeServerOptions {
  /** Reject every call before reading (a trailers-only status, like an auth failure). */
  rejectCalls?: { code: grpc.status; details: string };
  /** Decide the answer per connection (default: a Welcome echoing the agent id). */
  onRegister?: (conn: FakeConnection) => RegisterReply;
}

/** One agent stream as the server sees it. */
export class FakeConnection {
  readonly received: pb.AgentMessage[] = [];
  readonly metadata: Record<string, string> = {};
  /** Resolves when the client half-closes ("end") or resets ("cancelled") the stream. */
  readonly clientEnded: Promise<"end" | "cancelled">;
  readonly #call: grpc.ServerDuplexStream<pb.AgentMessage, pb.ServerMessage>;
  readonly #listeners = new Set<() => void>();
  #finished = false;

  constructor(call: grpc.ServerDuplexStream<pb.AgentMessage, pb.ServerMessage>) {
    this.#call = call;
    for (const [key, values] of Object.entries(call.metadata.getMap())) this.metadata[key] = String(values);
    this.clientEnded = new Promise((resolve) => {
      call.on("end", () => resolve("end"));
      call.on("cancelled", () => resolve("cancelled"));
      call.on("close", () => resolve("cancelled"));
    });
  }

  get register(): pb.RegisterAgent | undefined {
    const first = this.received[0]?.payload;
    return first?.case === "register" ? first.value : undefined;
  }

  /** Internal: records an incoming frame and wakes waiters. */
  push(msg: pb.AgentMessage): void {
    this.received.push(msg);
    for (const listener of [...this.#listeners]) listener();
  }

  /** Writes a ServerMessage to the agent. */
  send(init: ServerInit): void {
    if (!this.#finished) this.#call.write(create(pb.ServerMessageSchema, init));
  }

  /** Sends `send_message` and returns its request id. */
  sendMessage(content: string, extra: { requestId?: string; threadId?: string; sender?: string } = {}): string {
    const requestId = extra.requestId ?? `req-${Math.random().toString(16).slice(2, 10)}`;
    this.send({ payload: { case: "sendMessage", value: { requestId, content, threadId: extra.threadId ?? "thread-1", sender: extra.sender ?? "tester" } } });
    return requestId;
  }

  /** Ends the stream with OK. */
  end(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#call.end();
  }

  /** Ends the stream with an error status. */
  fail(code: grpc.status, details: string): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#call.emit("error", { code, details });
  }

  /** Waits for a received frame (already received ones count) that satisfies `predicate`. */
  waitFor(predicate: (msg: pb.AgentMessage) => boolean, timeoutMs = 5_000): Promise<pb.AgentMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.received.find(predicate);
        if (hit === undefined) return false;
        clearTimeout(timer);
        this.#listeners.delete(onPush);
        resolve(hit);
        return true;
      };
      const onPush = () => void check();
      const timer = setTimeout(() => {
        this.#listeners.delete(onPush);
        reject(new Error(`timed out waiting for a frame; received: ${this.received.map((m) => m.payload.case).join(", ")}`));
      }, timeoutMs);
      if (!check()) this.#listeners.add(onPush);
    });
  }

  /** The MessageResponse events received for one request, in order. */
  responses(requestId: string): pb.MessageResponse["event"][] {
    return this.received.flatMap((m) => (m.payload.case === "response" && m.payload.value.requestId === requestId ? [m.payload.value.event] : []));
  }

  /** Waits for the request's terminal event (done, error or cancelled) and returns all its events. */
  async untilTerminal(requestId: string, timeoutMs = 5_000): Promise<pb.MessageResponse["event"][]> {
    await this.waitFor(
      (m) => m.payload.case === "response" && m.payload.value.requestId === requestId && ["done", "error", "cancelled"].includes(m.payload.value.event.case ?? ""),
      timeoutMs,
    );
    return this.responses(requestId);
  }
}

export interface FakeServer {
  addr: string;
  connections: FakeConnection[];
  /** Waits for the n-th (0-based) connection to have sent its register frame. */
  connection(index: number, timeoutMs?: number): Promise<FakeConnection>;
  close(): Promise<void>;
}

/** Starts the fake server on 127.0.0.1:0. */
export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const server = new grpc.Server();
  const connections: FakeConnection[] = [];
  const registered: FakeConnection[] = [];
  const waiters = new Set<() => void>();
  let instance = 0;

  const handler = (call: grpc.ServerDuplexStream<pb.AgentMessage, pb.ServerMessage>) => {
    if (options.rejectCalls !== undefined) {
      call.emit("error", options.rejectCalls);
      return;
    }
    const conn = new FakeConnection(call);
    connections.push(conn);
    call.on("error", () => {});
    call.on("data", (msg: pb.AgentMessage) => {
      conn.push(msg);
      if (conn.received.length !== 1) return;
      const reply = options.onRegister?.(conn) ?? {};
      if ("status" in reply) {
        conn.fail(reply.status.code, reply.status.details);
      } else if ("registrationError" in reply) {
        conn.send({ payload: { case: "registrationError", value: reply.registrationError } });
        const status = reply.thenStatus ?? { code: grpc.status.ALREADY_EXISTS, details: `agent ${conn.register?.agentId} already registered` };
        conn.fail(status.code, status.details);
      } else {
        instance++;
        const welcome = create(pb.WelcomeSchema, {
          serverId: "coven-gateway-42",
          agentId: conn.register?.agentId ?? "",
          instanceId: `0000000${instance}-abcd`.slice(-13),
          principalId: "anonymous",
          mcpToken: `mcp-token-${instance}`,
          mcpEndpoint: "http://127.0.0.1:0/mcp",
          ...reply.welcome,
        });
        conn.send({ payload: { case: "welcome", value: welcome } });
      }
      registered.push(conn);
      for (const w of [...waiters]) w();
    });
    call.on("end", () => conn.end());
  };

  server.addService(
    {
      agentStream: {
        path: "/coven.CovenControl/AgentStream",
        requestStream: true,
        responseStream: true,
        requestSerialize: (msg: pb.AgentMessage) => Buffer.from(toBinary(pb.AgentMessageSchema, msg)),
        requestDeserialize: (buf: Buffer) => fromBinary(pb.AgentMessageSchema, buf),
        responseSerialize: (msg: pb.ServerMessage) => Buffer.from(toBinary(pb.ServerMessageSchema, msg)),
        responseDeserialize: (buf: Buffer) => fromBinary(pb.ServerMessageSchema, buf),
      },
    },
    { agentStream: handler },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );

  return {
    addr: `127.0.0.1:${port}`,
    connections,
    connection(index, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const conn = registered[index];
          if (conn === undefined) return false;
          clearTimeout(timer);
          waiters.delete(onChange);
          resolve(conn);
          return true;
        };
        const onChange = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(onChange);
          reject(new Error(`timed out waiting for connection ${index}`));
        }, timeoutMs);
        if (!check()) waiters.add(onChange);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
