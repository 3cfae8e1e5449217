// ABOUTME: coven.gateway.v1.GatewayService over real gRPC on loopback, called by an independent proto-loader client
// ABOUTME: against agents connected through CovenControl.AgentStream: Inject outcomes, CancelRequest, agent states, auth.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/agent/agent-events.js";
import type { AgentManager } from "../../src/agent/agent-manager.js";
import type { ConversationService } from "../../src/conversation/conversation-service.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createCovenControlService } from "../../src/rpc/coven-control-service.js";
import { createGatewayV1Service } from "../../src/rpc/gateway-v1-service.js";
import { createGrpcServer, type GrpcServerHandle } from "../../src/rpc/grpc-server.js";
import { anonymousAuthenticator, type RpcAuthenticator, type RpcCallContext } from "../../src/rpc/rpc-auth.js";
import { covenControlClient, ThirdPartyAgentStream } from "../support/proto-client.js";
import { startTestDomain } from "../support/test-domain.js";

const PROTO_DIR = fileURLToPath(new URL("../../proto/", import.meta.url));

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** The GatewayService client of an independent peer: the .proto file loaded at run time, nothing of ours. */
function gatewayClient(addr: string): Client {
  const definition = protoLoader.loadSync("coven/gateway/v1/gateway.proto", {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    coven: { gateway: { v1: { GatewayService: new (addr: string, creds: grpc.ChannelCredentials) => Client } } };
  };
  return new loaded.coven.gateway.v1.GatewayService(addr, grpc.credentials.createInsecure());
}

type Outcome = { ok: true; response: Record<string, unknown> } | { ok: false; code: grpc.status; details: string };

function call(client: Client, method: string, request: object, metadata = new grpc.Metadata()): Promise<Outcome> {
  return new Promise((resolve) => {
    const fn = client[method] as (r: object, m: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void;
    fn.call(client, request, metadata, (err, response) => {
      resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, response });
    });
  });
}

interface Harness {
  agents: AgentManager;
  conversations: ConversationService;
  server: GrpcServerHandle;
  gateway: Client;
  control: Client;
  agentStreams: ThirdPartyAgentStream[];
  stop(): Promise<void>;
}

const open: Harness[] = [];

afterEach(async () => {
  for (const h of open.splice(0)) await h.stop();
});

/**
 * The gateway's domain on a temp database, with CovenControl (anonymous agents) and GatewayService (behind `auth`)
 * of the gRPC edge on loopback.
 */
async function start(options: { auth?: RpcAuthenticator; injectionTimeoutMs?: number } = {}): Promise<Harness> {
  const { domain, stop } = await startTestDomain({
    heartbeatTimeoutMs: 90_000,
    limits: { cancelGraceMs: 10_000, injectionTimeoutMs: options.injectionTimeoutMs ?? 10_000, shutdownTimeoutMs: 0 },
  });
  const { agents, conversations } = domain;
  const auth = options.auth ?? anonymousAuthenticator;
  const server = createGrpcServer({
    log: silentLogger,
    maxMessageBytes: 4 * 1024 * 1024,
    services: [
      createCovenControlService({ agents, auth: anonymousAuthenticator, log: silentLogger }),
      createGatewayV1Service({ agents, conversations, auth, log: silentLogger, maintenance: domain.ops.maintenance }),
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
  const gateway = gatewayClient(addr);
  const control = covenControlClient(addr);
  const agentStreams: ThirdPartyAgentStream[] = [];
  const h: Harness = {
    agents,
    conversations,
    server,
    gateway,
    control,
    agentStreams,
    stop: () =>
      stop({
        async closeEdges() {
          for (const stream of agentStreams) stream.cancel();
          gateway.close();
          control.close();
          await server.stop(500);
        },
      }),
  };
  open.push(h);
  return h;
}

/** Connects an agent over the real AgentStream and waits for its Welcome. */
async function connectAgent(h: Harness, agentId: string, protocolFeatures: string[] = []): Promise<ThirdPartyAgentStream> {
  const stream = new ThirdPartyAgentStream(h.control);
  h.agentStreams.push(stream);
  stream.register(agentId, { protocol_features: protocolFeatures });
  await stream.next("welcome");
  return stream;
}

/** Starts a turn to the agent through the real pipeline; the agent then holds the request. */
async function startTurn(h: Harness, stream: ThirdPartyAgentStream, agentId: string) {
  const events: AgentEvent[] = [];
  const result = await h.conversations.send({
    agentId,
    thread: { frontendName: "direct" },
    sender: "tester",
    content: "work",
    actorPrincipalId: null,
    sink: { deliver: async (event) => void events.push(event) },
  });
  if (result.status !== "accepted") throw new Error("turn not accepted");
  await stream.next("send_message", (f) => (f.send_message as { request_id: string }).request_id === result.requestId);
  return { ...result, events };
}

const roleAuth = (roles: string[]): RpcAuthenticator => ({
  authenticate: async () => ({ id: "p-1", isAnonymous: false, roles }),
});

describe("GatewayService.Inject", () => {
  it("writes InjectContext to the agent and answers accepted once the agent acknowledges", async () => {
    const h = await start();
    const agent = await connectAgent(h, "a1", ["injection"]);

    const pending = call(h.gateway, "Inject", { agent_id: "a1", content: "ctx", priority: "INJECTION_PRIORITY_IMMEDIATE", source: "ops" });
    const frame = await agent.next("inject_context");
    const inject = frame.inject_context as Record<string, unknown>;
    expect(inject).toMatchObject({ content: "ctx", priority: "INJECTION_PRIORITY_IMMEDIATE", source: "ops" });
    expect(inject.injection_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    agent.send({ injection_ack: { injection_id: inject.injection_id, accepted: true } });

    const outcome = await pending;
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.response).toMatchObject({ injection_id: inject.injection_id, outcome: "accepted" });
    expect(outcome.response._reason).toBeUndefined();
  });

  it("sends NORMAL when no priority is given and answers rejected with the agent's reason", async () => {
    const h = await start();
    const agent = await connectAgent(h, "a1", ["injection"]);

    const pending = call(h.gateway, "Inject", { agent_id: "a1", content: "ctx" });
    const inject = (await agent.next("inject_context")).inject_context as Record<string, unknown>;
    expect(inject.priority).toBe("INJECTION_PRIORITY_NORMAL");
    expect(inject._source).toBeUndefined();
    agent.send({ injection_ack: { injection_id: inject.injection_id, accepted: false, reason: "busy" } });

    const outcome = await pending;
    expect(outcome.ok && outcome.response).toMatchObject({ injection_id: inject.injection_id, outcome: "rejected", reason: "busy", _reason: "reason" });
  });

  it("answers timeout when the agent never acknowledges", async () => {
    const h = await start({ injectionTimeoutMs: 100 });
    const agent = await connectAgent(h, "a1", ["injection"]);

    const outcome = await call(h.gateway, "Inject", { agent_id: "a1", content: "ctx", priority: "INJECTION_PRIORITY_DEFERRED" });

    expect(outcome.ok && outcome.response.outcome).toBe("timeout");
    expect(((await agent.next("inject_context")).inject_context as Record<string, unknown>).priority).toBe("INJECTION_PRIORITY_DEFERRED");
  });

  it("answers agent_disconnected when the agent's stream ends first", async () => {
    const h = await start();
    const agent = await connectAgent(h, "a1", ["injection"]);

    const pending = call(h.gateway, "Inject", { agent_id: "a1", content: "ctx" });
    await agent.next("inject_context");
    await agent.close();

    const outcome = await pending;
    expect(outcome.ok && outcome.response.outcome).toBe("agent_disconnected");
  });

  it("fails FAILED_PRECONDITION for an agent without the injection feature, and writes nothing", async () => {
    const h = await start();
    const agent = await connectAgent(h, "a1", []);

    const outcome = await call(h.gateway, "Inject", { agent_id: "a1", content: "ctx" });

    expect(outcome).toEqual({ ok: false, code: grpc.status.FAILED_PRECONDITION, details: "agent does not support injection" });
    expect(agent.received.some((f) => f.payload === "inject_context")).toBe(false);
  });

  it("checks its input, then the agent", async () => {
    const h = await start();
    const cases: Array<[object, grpc.status, string]> = [
      [{ content: "ctx" }, grpc.status.INVALID_ARGUMENT, "agent_id is required"],
      [{ agent_id: "a1" }, grpc.status.INVALID_ARGUMENT, "content is required"],
      [{ agent_id: "a1", content: "ctx", priority: 9 }, grpc.status.INVALID_ARGUMENT, "unknown injection priority 9"],
      [{ agent_id: "ghost", content: "ctx" }, grpc.status.NOT_FOUND, "agent not found"],
    ];
    for (const [request, code, details] of cases) {
      expect(await call(h.gateway, "Inject", request)).toEqual({ ok: false, code, details });
    }
  });
});

describe("GatewayService.CancelRequest", () => {
  it("cancels a request by its user message id; an agent without cancellation ends it canceled at once", async () => {
    const h = await start();
    const agent = await connectAgent(h, "a1", []);
    const turn = await startTurn(h, agent, "a1");

    const outcome = await call(h.gateway, "CancelRequest", { id: turn.messageId, reason: "stop it" });

    expect(outcome).toEqual({ ok: true, response: { request_id: turn.requestId, status: "canceling" } });
    await turn.finished;
    expect(turn.events.at(-1)).toEqual({ kind: "canceled", reason: "stop it", origin: "gateway" });
    const again = await call(h.gateway, "CancelRequest", { id: turn.requestId });
    expect(again).toEqual({ ok: false, code: grpc.status.NOT_FOUND, details: "request not found" });
  });

  it("sends CancelRequest with the default reason to an agent that declared cancellation", async () => {
    const h = await start();
    const agent = await connectAgent(h, "a1", ["cancellation"]);
    const turn = await startTurn(h, agent, "a1");

    const outcome = await call(h.gateway, "CancelRequest", { id: turn.requestId });

    expect(outcome.ok && outcome.response).toEqual({ request_id: turn.requestId, status: "canceling" });
    const cancel = (await agent.next("cancel_request")).cancel_request as Record<string, unknown>;
    expect(cancel).toMatchObject({ request_id: turn.requestId, reason: "user_requested" });
    agent.respond(turn.requestId, { cancelled: { reason: "ok, stopped" } });
    await turn.finished;
    expect(turn.events.at(-1)).toEqual({ kind: "canceled", reason: "ok, stopped", origin: "agent" });
  });

  it("answers INVALID_ARGUMENT without an id and NOT_FOUND for an unknown one", async () => {
    const h = await start();
    expect(await call(h.gateway, "CancelRequest", {})).toEqual({ ok: false, code: grpc.status.INVALID_ARGUMENT, details: "id is required" });
    expect(await call(h.gateway, "CancelRequest", { id: "nope" })).toEqual({
      ok: false,
      code: grpc.status.NOT_FOUND,
      details: "request not found",
    });
  });
});

describe("GatewayService.ListAgentStates", () => {
  it("lists connected agents with idle/busy and their pending requests", async () => {
    const h = await start();
    const busy = await connectAgent(h, "b-agent");
    await connectAgent(h, "a-agent");
    const turn = await startTurn(h, busy, "b-agent");

    const outcome = await call(h.gateway, "ListAgentStates", {});

    expect(outcome).toEqual({
      ok: true,
      response: {
        agents: [
          { agent_id: "a-agent", name: "a-agent", state: "idle", pending_requests: 0 },
          { agent_id: "b-agent", name: "b-agent", state: "busy", pending_requests: 1 },
        ],
      },
    });
    busy.respond(turn.requestId, { done: { full_response: "" } });
    await turn.finished;
  });
});

describe("GatewayService auth", () => {
  it("authenticates every call with the method path and requires admin or owner for Inject and CancelRequest", async () => {
    const seen: RpcCallContext[] = [];
    const member: RpcAuthenticator = {
      authenticate: async (context) => {
        seen.push(context);
        return { id: "p-1", isAnonymous: false, roles: ["member"] };
      },
    };
    const h = await start({ auth: member });
    await connectAgent(h, "a1", ["injection"]);
    const denied = { ok: false, code: grpc.status.PERMISSION_DENIED, details: "admin role required" };

    expect(await call(h.gateway, "Inject", { agent_id: "a1", content: "ctx" })).toEqual(denied);
    expect(await call(h.gateway, "CancelRequest", { id: "x" })).toEqual(denied);
    expect((await call(h.gateway, "ListAgentStates", {})).ok).toBe(true);
    expect(seen.map((c) => [c.path, c.kind])).toEqual([
      ["/coven.gateway.v1.GatewayService/Inject", "call"],
      ["/coven.gateway.v1.GatewayService/CancelRequest", "call"],
      ["/coven.gateway.v1.GatewayService/ListAgentStates", "call"],
    ]);
  });

  it("lets an owner inject", async () => {
    const h = await start({ auth: roleAuth(["owner"]), injectionTimeoutMs: 50 });
    await connectAgent(h, "a1", ["injection"]);
    const outcome = await call(h.gateway, "Inject", { agent_id: "a1", content: "ctx" });
    expect(outcome.ok && outcome.response.outcome).toBe("timeout");
  });

  it("rejects an unauthenticated caller before anything else", async () => {
    const h = await start({
      auth: {
        authenticate: async () => {
          throw new GatewayError("UNAUTHENTICATED", "missing credentials");
        },
      },
    });
    for (const method of ["Inject", "CancelRequest", "ListAgentStates"]) {
      expect(await call(h.gateway, method, {})).toEqual({ ok: false, code: grpc.status.UNAUTHENTICATED, details: "missing credentials" });
    }
  });
});
