// ABOUTME: AgentStream over real gRPC on loopback, driven by an independent proto-loader client.
// ABOUTME: Covers headers-first, Welcome fields, registration failures, duplicates, heartbeats and disconnects.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import type { AgentManager } from "../../src/agent/agent-manager.js";
import type { AgentEvent } from "../../src/agent/agent-events.js";
import { createCovenControlService } from "../../src/rpc/coven-control-service.js";
import { createGrpcServer, type GrpcServerHandle } from "../../src/rpc/grpc-server.js";
import { anonymousAuthenticator, type RpcAuthenticator } from "../../src/rpc/rpc-auth.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { silentLogger } from "../../src/lib/logger.js";
import { covenControlClient, ThirdPartyAgentStream } from "../support/proto-client.js";
import { startTestDomain } from "../support/test-domain.js";

interface Harness {
  agents: AgentManager;
  server: GrpcServerHandle;
  addr: string;
  client: ReturnType<typeof covenControlClient>;
  stop(): Promise<void>;
}

const open: Harness[] = [];

/** The gateway's domain on a temp database, with only the CovenControl service of the gRPC edge on loopback. */
async function startServer(
  options: { heartbeatTimeoutMs?: number; auth?: RpcAuthenticator; queueHigh?: number; maxMessageBytes?: number } = {},
): Promise<Harness> {
  const { domain, stop } = await startTestDomain({
    serverId: "coven-gateway-4242",
    env: { COVEN_MCP_ENDPOINT: "http://localhost:8080/mcp" },
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 90_000,
    limits: {
      requestQueueHigh: options.queueHigh ?? 256,
      requestQueueLow: 2,
      cancelGraceMs: 10_000,
      injectionTimeoutMs: 30_000,
      shutdownTimeoutMs: 0,
    },
  });
  const { agents } = domain;
  const server = createGrpcServer({
    log: silentLogger,
    maxMessageBytes: 4 * 1024 * 1024,
    services: [
      createCovenControlService({
        agents,
        auth: options.auth ?? anonymousAuthenticator,
        log: silentLogger,
        ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}),
      }),
    ],
  });
  let port: number;
  try {
    ({ port } = await server.listen("127.0.0.1:0"));
  } catch (err) {
    await stop({ closeEdges: () => server.stop(0) });
    throw err;
  }
  const addr = `127.0.0.1:${port}`;
  const client = covenControlClient(addr);
  const harness: Harness = {
    agents,
    server,
    addr,
    client,
    stop: () =>
      stop({
        async closeEdges() {
          client.close();
          await server.stop(500);
        },
      }),
  };
  open.push(harness);
  return harness;
}

afterEach(async () => {
  for (const h of open.splice(0)) await h.stop();
});

/** Lets callbacks and I/O run until `check` holds (no fixed sleep). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !check(); i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
  expect(check()).toBe(true);
}

async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe("AgentStream handshake", () => {
  it("sends response headers before the agent sends anything", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    await expect(stream.headers).resolves.toBeInstanceOf(grpc.Metadata);
    expect(stream.received).toHaveLength(0);
    stream.cancel();
  });

  it("answers register with a Welcome carrying every field", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("agent-a");
    const frame = await stream.next("welcome");
    const welcome = frame.welcome as Record<string, unknown>;
    expect(welcome.server_id).toBe("coven-gateway-4242");
    expect(welcome.agent_id).toBe("agent-a");
    expect(welcome.instance_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{3}$/);
    expect(welcome.principal_id).toBe("anonymous");
    expect(welcome.mcp_token).toMatch(/^[0-9a-f-]{36}$/);
    expect(welcome.mcp_endpoint).toBe("http://localhost:8080/mcp");
    expect(welcome.secrets).toEqual({});
    expect(welcome.available_tools).toEqual([]);
    expect(h.agents.resolveMcpToken(welcome.mcp_token as string)).toMatchObject({ agentId: "agent-a" });
    expect(h.agents.list().map((a) => a.agentId)).toEqual(["agent-a"]);
    const status = await stream.close();
    expect(status.code).toBe(grpc.status.OK);
    expect(h.agents.list()).toEqual([]);
    expect(h.agents.resolveMcpToken(welcome.mcp_token as string)).toBeUndefined();
  });

  it("rejects a first frame that is not register", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    stream.send({ heartbeat: { timestamp_ms: "1" } });
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toBe("first message must be RegisterAgent");
  });

  it("rejects a first frame with no payload", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    stream.send({});
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toBe("first message must be RegisterAgent");
  });

  it("rejects an empty agent_id", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("");
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toBe("agent_id is required");
  });

  it("ends OK when the agent half-closes before any frame", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    const status = await stream.close();
    expect(status.code).toBe(grpc.status.OK);
  });

  it("answers a duplicate agent_id with registration_error then ALREADY_EXISTS, leaving the first untouched", async () => {
    const h = await startServer();
    const first = new ThirdPartyAgentStream(h.client);
    first.register("dup");
    await first.next("welcome");
    const taken = new ThirdPartyAgentStream(h.client);
    taken.register("dup-1");
    await taken.next("welcome");

    const second = new ThirdPartyAgentStream(h.client);
    second.register("dup");
    const rejection = await second.next("registration_error");
    expect(rejection.registration_error).toEqual({ reason: "agent dup already registered", suggested_id: "dup-2" });
    const status = await second.status;
    expect(status.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(status.details).toBe("agent dup already registered");
    expect(second.received.map((f) => f.payload)).toEqual(["registration_error"]);
    expect(h.agents.get("dup")).toBeDefined();
    first.cancel();
    taken.cancel();
  });

  it("answers an authentication failure trailers-only, with no headers first", async () => {
    const auth: RpcAuthenticator = {
      authenticate: async () => {
        throw new GatewayError("UNAUTHENTICATED", "unknown public key");
      },
    };
    const h = await startServer({ auth });
    const stream = new ThirdPartyAgentStream(h.client);
    let sawHeaders = false;
    stream.call.on("metadata", () => {
      sawHeaders = true;
    });
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(status.details).toBe("unknown public key");
    expect(sawHeaders).toBe(false);
  });
});

describe("AgentStream robustness", () => {
  it("refuses a frame too large to send without dropping the agent, and keeps serving it", async () => {
    const h = await startServer({ maxMessageBytes: 1024 });
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("big");
    await stream.next("welcome");
    await expect(
      h.agents.dispatch({ agentId: "big", requestId: "r1", threadId: "t", sender: "s", content: "x".repeat(2048) }),
    ).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    expect(h.agents.get("big")?.state).toBe("idle");
    const handle = await h.agents.dispatch({ agentId: "big", requestId: "r2", threadId: "t", sender: "s", content: "small" });
    expect((await stream.next("send_message")).send_message).toMatchObject({ request_id: "r2" });
    stream.respond("r2", { done: { full_response: "" } });
    for await (const event of handle.events) expect(event.kind).toBe("done");
    stream.cancel();
  });

  it("ends the stream INTERNAL 'receiving message: ...' on a frame that does not decode", async () => {
    const h = await startServer();
    const raw = h.client.makeBidiStreamRequest(
      "/coven.CovenControl/AgentStream",
      (value: Buffer) => value,
      (value: Buffer) => value,
    );
    const status = new Promise<grpc.StatusObject>((resolve) => raw.on("status", resolve));
    raw.on("error", () => {});
    raw.on("data", () => {});
    raw.write(Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x61]));
    raw.write(Buffer.from([0x0a, 0xff, 0xff]));
    const result = await status;
    expect(result.code).toBe(grpc.status.INTERNAL);
    expect(result.details).toMatch(/^receiving message: /);
  });

  it("opens no session for a client that gave up while authentication ran", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const authenticating = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let finished!: () => void;
    const authenticated = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const auth: RpcAuthenticator = {
      authenticate: async () => {
        entered();
        await gate;
        setImmediate(finished);
        return { id: "slow-principal", isAnonymous: false, roles: [] };
      },
    };
    const h = await startServer({ auth });
    const stream = new ThirdPartyAgentStream(h.client);
    stream.call.on("error", () => {});
    await authenticating;
    stream.cancel();
    // The server learns of the cancel from the peer's RST_STREAM; grpc-js offers the test no event for it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await authenticated;
    expect(h.agents.closePrincipal("slow-principal", { code: "UNAVAILABLE", message: "x" })).toBe(0);
  });

  it("ends streams that never registered on shutdown, with the shutdown status", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    await stream.headers;
    await h.agents.shutdown(0);
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.details).toBe("gateway shutting down");
  });
});

describe("AgentStream change listeners", () => {
  it("reports connect, busy/idle and disconnect with a snapshot", async () => {
    const h = await startServer();
    const seen: string[] = [];
    const unsubscribe = h.agents.onChange((event, info) => seen.push(`${event}:${info.agentId}:${info.state}`));
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("watched");
    await stream.next("welcome");
    const handle = await h.agents.dispatch({ agentId: "watched", requestId: "r", threadId: "t", sender: "s", content: "x" });
    stream.respond("r", { done: { full_response: "" } });
    for await (const event of handle.events) void event;
    await stream.close();
    unsubscribe();
    expect(seen).toEqual([
      "state:watched:idle",
      "connected:watched:idle",
      "state:watched:busy",
      "state:watched:idle",
      "disconnected:watched:offline",
    ]);
  });
});

describe("AgentStream revocation", () => {
  it("closes a principal's streams, including one that has not registered yet", async () => {
    const h = await startServer();
    const registered = new ThirdPartyAgentStream(h.client);
    registered.register("revoked-agent");
    await registered.next("welcome");
    const silent = new ThirdPartyAgentStream(h.client);
    await silent.headers;
    const end = { code: "PERMISSION_DENIED", message: "principal has been revoked" } as const;
    expect(h.agents.closePrincipal("anonymous", end)).toBe(2);
    for (const stream of [registered, silent]) {
      const status = await stream.status;
      expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(status.details).toBe("principal has been revoked");
    }
    expect(h.agents.closePrincipal("anonymous", end)).toBe(0);
  });
});

describe("AgentStream requests", () => {
  it("correlates every response kind to its request and maps them to internal events", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("worker", { protocol_features: ["token_usage", "tool_states"] });
    await stream.next("welcome");
    const handle = await h.agents.dispatch({ agentId: "worker", requestId: "req-1", threadId: "t-1", sender: "me", content: "hi" });
    const sent = await stream.next("send_message");
    expect(sent.send_message).toMatchObject({ request_id: "req-1", thread_id: "t-1", sender: "me", content: "hi" });
    expect(h.agents.get("worker")?.state).toBe("busy");

    const r = (event: Record<string, unknown>) => stream.respond("req-1", event);
    r({ thinking: "hmm" });
    r({ text: "Hel" });
    r({ tool_use: { id: "t1", name: "bash", input_json: "{\"cmd\":\"ls\"}" } });
    r({ tool_result: { id: "t1", output: "a.txt", is_error: true } });
    r({ file: { filename: "f.txt", mime_type: "text/plain", data: Buffer.from("xyz") } });
    r({ tool_approval_request: { id: "t2", name: "rm", input_json: "{}" } });
    r({ session_init: { session_id: "s-1" } });
    r({ session_orphaned: { reason: "lost" } });
    r({ usage: { input_tokens: 10, output_tokens: 5, cache_read_tokens: 1, cache_write_tokens: 2, thinking_tokens: 3 } });
    r({ tool_state: { id: "t1", state: "TOOL_STATE_RUNNING" } });
    r({ tool_state: { id: "t1", state: 42, detail: "" } });
    stream.respond("req-1", {});
    stream.respond("other-request", { text: "lost" });
    r({ done: { full_response: "Hello" } });
    r({ text: "after done" });

    const events = await collect(handle.events);
    expect(events.map((e) => e.kind)).toEqual([
      "thinking",
      "text",
      "tool_use",
      "tool_result",
      "file",
      "tool_approval",
      "session_init",
      "session_orphaned",
      "usage",
      "tool_state",
      "tool_state",
      "done",
    ]);
    expect(events[5]).toEqual({ kind: "tool_approval", id: "t2", name: "rm", inputJson: "{}", requestId: "req-1" });
    expect(events[9]).toEqual({ kind: "tool_state", id: "t1", state: "running", detail: "" });
    expect(events[10]).toMatchObject({ state: "unknown" });
    expect(events[11]).toEqual({ kind: "done", fullResponse: "Hello", origin: "agent" });
    await until(() => h.agents.get("worker")?.state === "idle");
    stream.cancel();
  });

  it("maps agent error and cancelled to terminal events", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("w2");
    await stream.next("welcome");
    const a = await h.agents.dispatch({ agentId: "w2", requestId: "a", threadId: "t", sender: "s", content: "x" });
    const b = await h.agents.dispatch({ agentId: "w2", requestId: "b", threadId: "t", sender: "s", content: "y" });
    stream.respond("a", { error: "backend exploded" });
    stream.respond("a", { done: { full_response: "" } });
    stream.respond("b", { cancelled: { reason: "stop" } });
    expect(await collect(a.events)).toEqual([{ kind: "error", error: "backend exploded", origin: "agent" }]);
    expect(await collect(b.events)).toEqual([{ kind: "canceled", reason: "stop", origin: "agent" }]);
    stream.cancel();
  });

  it("denies an approval request for an unknown request id at once", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("w3");
    await stream.next("welcome");
    stream.respond("nope", { tool_approval_request: { id: "tool-9", name: "rm", input_json: "{}" } });
    const answer = await stream.next("tool_approval");
    expect(answer.tool_approval).toEqual({ id: "tool-9", approved: false, approve_all: false });
    stream.cancel();
  });

  it("ends every pending request with 'agent disconnected' when the agent vanishes", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("w4");
    await stream.next("welcome");
    const handle = await h.agents.dispatch({ agentId: "w4", requestId: "r", threadId: "t", sender: "s", content: "x" });
    stream.respond("r", { text: "partial" });
    const events = handle.events[Symbol.asyncIterator]();
    expect((await events.next()).value).toEqual({ kind: "text", text: "partial" });
    stream.cancel();
    expect(await collect({ [Symbol.asyncIterator]: () => events })).toEqual([
      { kind: "error", error: "agent disconnected", origin: "gateway" },
    ]);
    expect(h.agents.get("w4")).toBeUndefined();
    await expect(h.agents.dispatch({ agentId: "w4", requestId: "r2", threadId: "t", sender: "s", content: "x" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "agent not found",
    });
  });

  it("delivers every event of a fast agent, in order, to a slow consumer", async () => {
    const h = await startServer({ queueHigh: 8 });
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("fast");
    await stream.next("welcome");
    const handle = await h.agents.dispatch({ agentId: "fast", requestId: "f", threadId: "t", sender: "s", content: "x" });
    const total = 2_000;
    for (let i = 0; i < total; i++) stream.respond("f", { text: `chunk-${i};` });
    stream.respond("f", { done: { full_response: "" } });
    const texts: string[] = [];
    for await (const event of handle.events) {
      if (event.kind === "text") texts.push(event.text);
      if (texts.length % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(texts).toHaveLength(total);
    expect(texts[0]).toBe("chunk-0;");
    expect(texts[total - 1]).toBe(`chunk-${total - 1};`);
    stream.cancel();
  });

  it("ends the stream with UNAVAILABLE 'heartbeat timeout' once heartbeats stop", async () => {
    const h = await startServer({ heartbeatTimeoutMs: 150 });
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("hb");
    await stream.next("welcome");
    const handle = await h.agents.dispatch({ agentId: "hb", requestId: "r", threadId: "t", sender: "s", content: "x" });
    stream.send({ heartbeat: { timestamp_ms: String(Date.now()) } });
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.details).toBe("heartbeat timeout");
    expect(await collect(handle.events)).toEqual([{ kind: "error", error: "agent disconnected", origin: "gateway" }]);
  });

  it("sends Shutdown to agents and ends pending requests on graceful shutdown", async () => {
    const h = await startServer();
    const stream = new ThirdPartyAgentStream(h.client);
    stream.register("sd");
    await stream.next("welcome");
    const handle = await h.agents.dispatch({ agentId: "sd", requestId: "r", threadId: "t", sender: "s", content: "x" });
    const shutdown = h.agents.shutdown(100);
    expect((await stream.next("shutdown")).shutdown).toEqual({ reason: "gateway shutting down" });
    await shutdown;
    expect(await collect(handle.events)).toEqual([{ kind: "error", error: "gateway shutting down", origin: "gateway" }]);
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.details).toBe("gateway shutting down");
  });
});
