// ABOUTME: Per-stream behaviour of the fake agent: registration outcomes, cancel with and without the feature,
// ABOUTME: inject_context acks, Shutdown, heartbeats and auth metadata, all against the in-process fake server.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseScript, startFakeAgent, type FakeAgentHandle, type FakeAgentOptions } from "../../cmd/fake-agent/fake-agent.js";
import { startFakeServer, type FakeConnection, type FakeServer, type FakeServerOptions } from "./support/fake-server.js";

let server: FakeServer | undefined;
let agent: FakeAgentHandle | undefined;
let logs: string[] = [];

afterEach(async () => {
  await agent?.close();
  await server?.close();
  agent = undefined;
  server = undefined;
  logs = [];
});

async function connect(options: Partial<FakeAgentOptions> = {}, serverOptions: FakeServerOptions = {}): Promise<FakeConnection> {
  server = await startFakeServer(serverOptions);
  agent = await startFakeAgent({ addr: server.addr, log: (l) => logs.push(l), ...options });
  return server.connection(0);
}

async function startFailure(serverOptions: FakeServerOptions): Promise<Error & { exitCode?: number }> {
  server = await startFakeServer(serverOptions);
  try {
    agent = await startFakeAgent({ addr: server.addr, log: (l) => logs.push(l) });
  } catch (err) {
    return err as Error & { exitCode?: number };
  }
  throw new Error("expected registration to fail");
}

const slowScript = parseScript({ default: [{ text: "start" }, { sleep_ms: 300 }, { text: "late" }, { done: true }] });

describe("registration", () => {
  it("rejects with exit 3 and the spec text on registration_error", async () => {
    const err = await startFailure({ onRegister: () => ({ registrationError: { reason: "agent e2e-echo-agent already registered", suggestedId: "e2e-echo-agent-2" } }) });
    expect(err.message).toBe("registration rejected: agent e2e-echo-agent already registered (suggested: e2e-echo-agent-2)");
    expect(err.exitCode).toBe(3);
  });

  it("rejects with exit 3 and STATUS: detail on a trailers-only gRPC error", async () => {
    const err = await startFailure({ rejectCalls: { code: grpc.status.UNAUTHENTICATED, details: "missing authorization header" } });
    expect(err.message).toBe("registration failed: UNAUTHENTICATED: missing authorization header");
    expect(err.exitCode).toBe(3);
  });

  it("rejects with exit 3 on an error status after register", async () => {
    const err = await startFailure({ onRegister: () => ({ status: { code: grpc.status.INVALID_ARGUMENT, details: "agent_id is required" } }) });
    expect(err.message).toBe("registration failed: INVALID_ARGUMENT: agent_id is required");
    expect(err.exitCode).toBe(3);
  });

  it("rejects with UNAVAILABLE when nothing listens", async () => {
    const probe = await startFakeServer();
    const addr = probe.addr;
    await probe.close();
    await expect(startFakeAgent({ addr, log: () => {} })).rejects.toMatchObject({ message: expect.stringMatching(/^registration failed: UNAVAILABLE: /), exitCode: 3 });
  });

  it("sends the configured register fields and a bearer token", async () => {
    const conn = await connect({
      id: "a-1",
      name: "Agent One",
      capabilities: ["chat", "ui"],
      workdir: "/w",
      backend: "mux",
      workspaces: ["ws"],
      features: ["cancellation"],
      token: "jwt-abc",
    });
    expect(conn.metadata.authorization).toBe("Bearer jwt-abc");
    expect(conn.register).toMatchObject({
      agentId: "a-1",
      name: "Agent One",
      capabilities: ["chat", "ui"],
      protocolFeatures: ["cancellation"],
      metadata: { workingDirectory: "/w", backend: "mux", workspaces: ["ws"], hostname: "e2e-test", os: "test" },
    });
  });
});

describe("cancel_request", () => {
  it("with the cancellation feature: stops the steps and sends cancelled with the reason", async () => {
    const conn = await connect({ script: slowScript, features: ["cancellation"] });
    const id = conn.sendMessage("m");
    await conn.waitFor((m) => m.payload.case === "response");
    conn.send({ payload: { case: "cancelRequest", value: { requestId: id, reason: "user_requested" } } });
    await conn.untilTerminal(id);
    await new Promise((r) => setTimeout(r, 400));
    expect(conn.responses(id)).toEqual([
      { case: "text", value: "start" },
      { case: "cancelled", value: expect.objectContaining({ reason: "user_requested" }) },
    ]);
  });

  it("defaults the reason to `canceled` and cancels a hung request", async () => {
    const conn = await connect({ script: parseScript({ default: [{ hang: true }] }), features: ["cancellation"] });
    const id = conn.sendMessage("m");
    // The agent has the request (its trace logs an inbound message before dispatching it), so the cancel meets a hang.
    await expect.poll(() => agent!.trace.some((e) => e.dir === "in" && "sendMessage" in (e.msg as object))).toBe(true);
    conn.send({ payload: { case: "cancelRequest", value: { requestId: id } } });
    expect((await conn.untilTerminal(id)).at(-1)).toEqual({ case: "cancelled", value: expect.objectContaining({ reason: "canceled" }) });
  });

  it("ignores cancels for finished or unknown requests", async () => {
    const conn = await connect({ script: parseScript({ default: [{ done: "x" }] }), features: ["cancellation"] });
    const id = conn.sendMessage("m");
    await conn.untilTerminal(id);
    conn.send({ payload: { case: "cancelRequest", value: { requestId: id } } });
    await expect.poll(() => logs).toContain(`ignoring cancel for ${id} (request not running)`);
    expect(conn.responses(id).filter((e) => e.case === "cancelled")).toEqual([]);
  });

  it("without the feature: logs and lets the request finish", async () => {
    const conn = await connect({ script: slowScript });
    const id = conn.sendMessage("m");
    await conn.waitFor((m) => m.payload.case === "response");
    conn.send({ payload: { case: "cancelRequest", value: { requestId: id, reason: "user_requested" } } });
    const events = await conn.untilTerminal(id);
    expect(events.map((e) => e.case)).toEqual(["text", "text", "done"]);
    expect(logs).toContain(`ignoring cancel for ${id} (cancellation feature not declared)`);
  });
});

describe("inject_context", () => {
  it("acks with accepted:true when the injection feature is declared", async () => {
    const conn = await connect({ features: ["injection"] });
    conn.send({ payload: { case: "injectContext", value: { injectionId: "inj-1", content: "fyi" } } });
    const ack = await conn.waitFor((m) => m.payload.case === "injectionAck");
    expect(ack.payload.value).toMatchObject({ injectionId: "inj-1", accepted: true });
  });

  it("is ignored without the feature", async () => {
    const conn = await connect();
    conn.send({ payload: { case: "injectContext", value: { injectionId: "inj-2", content: "fyi" } } });
    await expect.poll(() => logs).toContain("ignoring inject_context inj-2 (injection feature not declared)");
    expect(conn.received.some((m) => m.payload.case === "injectionAck")).toBe(false);
  });
});

describe("stream end", () => {
  it("Shutdown logs the reason and closes with code 0", async () => {
    const conn = await connect();
    conn.send({ payload: { case: "shutdown", value: { reason: "gateway stopping" } } });
    expect(await agent!.closed).toEqual({ code: 0, reason: "shutdown: gateway stopping" });
    expect(logs).toContain("shutdown: gateway stopping");
    expect(await conn.clientEnded).toBe("end");
  });

  it("a stream error closes with code 1 and logs it", async () => {
    const conn = await connect();
    conn.fail(grpc.status.PERMISSION_DENIED, "principal has been revoked");
    expect(await agent!.closed).toEqual({ code: 1, reason: "stream error: PERMISSION_DENIED: principal has been revoked" });
    expect(logs).toContain("stream error: PERMISSION_DENIED: principal has been revoked");
  });

  it("close() half-closes and resolves closed with code 0", async () => {
    const conn = await connect();
    await agent!.close();
    expect(await conn.clientEnded).toBe("end");
    expect(await agent!.closed).toEqual({ code: 0, reason: "closed" });
  });

  it("disconnect() resets the stream", async () => {
    const conn = await connect();
    agent!.disconnect();
    expect(await conn.clientEnded).toBe("cancelled");
    expect((await agent!.closed).code).toBe(1);
  });
});

describe("heartbeats", () => {
  it("sends Heartbeat every -heartbeat-ms and on demand", async () => {
    const conn = await connect({ heartbeatMs: 40 });
    const beats = () => conn.received.filter((m) => m.payload.case === "heartbeat").length;
    await expect.poll(beats, { timeout: 2_000 }).toBeGreaterThanOrEqual(3);
    await agent!.close();
    const count = beats();
    expect(agent!.trace.filter((e) => e.dir === "out" && "heartbeat" in (e.msg as object)).length).toBe(count);
  });

  it("sends a heartbeat on demand", async () => {
    const conn = await connect();
    agent!.sendHeartbeat();
    const beat = await conn.waitFor((m) => m.payload.case === "heartbeat");
    expect(beat.payload.value).toMatchObject({ timestampMs: expect.any(BigInt) });
  });

  it("sends none by default", async () => {
    // A fake setInterval shows no interval fires in an hour; the half-close orders after every message sent before it.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const conn = await connect();
      vi.advanceTimersByTime(3_600_000);
      agent!.sendHeartbeat();
      await agent!.close();
      expect(await conn.clientEnded).toBe("end");
      expect(conn.received.map((m) => m.payload.case)).toEqual(["register", "heartbeat"]);
    } finally {
      vi.useRealTimers();
    }
  });
});
