// ABOUTME: Whole-gateway tests of PackService (packs-mcp.md §1.2, §2, §4, §8) with an independent grpc-js client that
// ABOUTME: loads proto/coven.proto at run time: validation texts, headers as "registered", routing, timeouts, disconnects.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import {
  bearerMetadata,
  covenControlClient,
  packServiceClient,
  ThirdPartyAgentStream,
  ThirdPartyPack,
  type ServerFrame,
  type WireToolDefinition,
} from "../support/proto-client.js";
import { postSse } from "../support/sse-client.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function gateway(start: () => Promise<TestGateway> = () => startTestGateway()) {
  const gw = await start();
  cleanups.push(() => gw.stop());
  const packs = packServiceClient(gw.grpcAddr);
  const control = covenControlClient(gw.grpcAddr);
  cleanups.push(() => packs.close());
  cleanups.push(() => control.close());
  const openPack = (manifest: { pack_id: string; version?: string; tools: WireToolDefinition[] }, metadata?: grpc.Metadata) => {
    const pack = new ThirdPartyPack(packs, manifest, metadata);
    cleanups.push(() => pack.cancel());
    return pack;
  };
  const openAgent = async (agentId: string, capabilities: string[] = ["chat"]) => {
    const agent = new ThirdPartyAgentStream(control);
    agent.call.on("error", () => {});
    cleanups.push(() => agent.cancel());
    agent.register(agentId, { capabilities });
    await agent.next("welcome");
    return agent;
  };
  return { gw, packs, openPack, openAgent };
}

const resultOf = async (agent: ThirdPartyAgentStream, requestId: string, timeoutMs = 5_000) =>
  (await agent.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === requestId, timeoutMs))
    .pack_tool_result as { request_id: string; output_json?: string; error?: string; result: string };

const callTool = (agent: ThirdPartyAgentStream, requestId: string, toolName: string, input: unknown = {}) =>
  agent.send({ execute_pack_tool: { request_id: requestId, tool_name: toolName, input_json: JSON.stringify(input) } });

const ECHO: WireToolDefinition = {
  name: "echo",
  description: "Echo text",
  input_schema_json: '{"type":"object","properties":{"text":{"type":"string"}}}',
};

describe("PackService.Register validation (§1.2)", () => {
  it("rejects each manifest row with its exact status and message, before any headers", async () => {
    const { openPack } = await gateway();
    const holder = openPack({ pack_id: "holder", tools: [{ name: "held" }] });
    await holder.headers;
    const cases: Array<[{ pack_id: string; tools: WireToolDefinition[] }, grpc.status, string]> = [
      [{ pack_id: "", tools: [{ name: "a" }] }, grpc.status.INVALID_ARGUMENT, "pack_id is required"],
      [{ pack_id: "p", tools: [{ name: "a" }, { name: "" }] }, grpc.status.INVALID_ARGUMENT, "tool name is required"],
      [{ pack_id: "p", tools: [{ name: "a" }, { name: "a" }] }, grpc.status.INVALID_ARGUMENT, "duplicate tool name in manifest: a"],
      [{ pack_id: "p", tools: [{ name: "a", input_schema_json: "{nope" }] }, grpc.status.INVALID_ARGUMENT, "invalid input_schema_json for tool 'a'"],
      [{ pack_id: "p", tools: [{ name: "a", input_schema_json: "[1]" }] }, grpc.status.INVALID_ARGUMENT, "invalid input_schema_json for tool 'a'"],
      [{ pack_id: "p", tools: [{ name: "a", input_schema_json: '{"type":"string"}' }] }, grpc.status.INVALID_ARGUMENT, "invalid input_schema_json for tool 'a'"],
      // Validation of the manifest itself comes before the registry checks.
      [{ pack_id: "holder", tools: [{ name: "b" }, { name: "b" }] }, grpc.status.INVALID_ARGUMENT, "duplicate tool name in manifest: b"],
      [{ pack_id: "holder", tools: [{ name: "other" }] }, grpc.status.ALREADY_EXISTS, "pack holder already registered"],
      [
        { pack_id: "p", tools: [{ name: "fresh" }, { name: "held" }] },
        grpc.status.ALREADY_EXISTS,
        "tool collision: tool name collision: tool 'held' already registered by pack 'holder'",
      ],
      [
        { pack_id: "p", tools: [{ name: "log_entry" }] },
        grpc.status.ALREADY_EXISTS,
        "tool collision: tool name collision: tool 'log_entry' already registered as builtin",
      ],
    ];
    for (const [manifest, code, details] of cases) {
      const pack = openPack(manifest);
      let sawHeaders = false;
      pack.call.on("metadata", () => (sawHeaders = true));
      const status = await pack.status;
      expect({ code: status.code, details: status.details }).toEqual({ code, details });
      expect(pack.requests).toEqual([]);
      expect(sawHeaders).toBe(false);
    }
    // A rejected manifest registered nothing, not even its non-colliding tools.
    const again = openPack({ pack_id: "p", tools: [{ name: "fresh" }] });
    await again.headers;
  });
});

describe("PackService through the whole gateway", () => {
  it("sends headers as 'registered', offers the tools in a later agent's Welcome, and unregisters on cancel", async () => {
    const { openPack, openAgent } = await gateway();
    const pack = openPack({ pack_id: "demo", version: "1.2.3", tools: [ECHO, { name: "bare", required_capabilities: ["x"] }] });
    const headers = await pack.headers;
    expect(headers).toBeInstanceOf(grpc.Metadata);
    const agent = await openAgent("late-agent", ["chat"]);
    const welcome = agent.received.find((f) => f.payload === "welcome")!.welcome as { available_tools: WireToolDefinition[] };
    expect(welcome.available_tools.map((t) => t.name)).toEqual(["echo"]);
    const withX = await openAgent("x-agent", ["x"]);
    const tools = (withX.received.find((f) => f.payload === "welcome")!.welcome as { available_tools: WireToolDefinition[] }).available_tools;
    expect(tools.find((t) => t.name === "bare")).toMatchObject({ input_schema_json: '{"type":"object","properties":{}}', required_capabilities: ["x"] });

    pack.cancel();
    await pack.status;
    await expect.poll(async () => {
      callTool(agent, `after-${Date.now()}`, "echo");
      const frame = agent.received.filter((f) => f.payload === "pack_tool_result").at(-1);
      return (frame?.pack_tool_result as { error?: string } | undefined)?.error;
    }).toBe("tool not found");
  });

  it("round-trips ExecutePackTool -> ExecuteToolRequest -> ToolResult -> PackToolResult with one request_id", async () => {
    const { openPack, openAgent } = await gateway();
    const pack = openPack({ pack_id: "demo", tools: [ECHO] });
    await pack.headers;
    const agent = await openAgent("caller");
    callTool(agent, "req-42", "echo", { text: "hi" });
    await pack.received(1);
    expect(pack.requests[0]).toEqual({ tool_name: "echo", input_json: '{"text":"hi"}', request_id: "req-42" });
    const ack = await pack.result("req-42", { output_json: '{"text":"hi"}' });
    expect(ack).toMatchObject({ ok: true, response: {} });
    expect(await resultOf(agent, "req-42")).toMatchObject({ request_id: "req-42", output_json: '{"text":"hi"}', result: "output_json" });

    callTool(agent, "req-43", "echo", { text: "boom" });
    await pack.received(2);
    await pack.result("req-43", { error: "it broke" });
    expect(await resultOf(agent, "req-43")).toMatchObject({ error: "it broke", result: "error" });

    callTool(agent, "req-44", "echo");
    await pack.received(3);
    await pack.result("req-44", {});
    expect(await resultOf(agent, "req-44")).toMatchObject({ output_json: "", result: "output_json" });
  });

  it("answers Empty to a ToolResult for an unknown request id", async () => {
    const { packs } = await gateway();
    const pack = new ThirdPartyPack(packs, { pack_id: "unused", tools: [] });
    cleanups.push(() => pack.cancel());
    await pack.headers;
    expect(await pack.result("never-routed", { output_json: "{}" })).toEqual({ ok: true, code: grpc.status.OK, response: {} });
  });

  it("times a call out at the tool's timeout_seconds and ignores the late result", async () => {
    const { openPack, openAgent } = await gateway();
    const pack = openPack({ pack_id: "slow", tools: [{ name: "nap", timeout_seconds: 1 }] });
    await pack.headers;
    const agent = await openAgent("caller");
    const started = Date.now();
    callTool(agent, "t1", "nap");
    expect(await resultOf(agent, "t1")).toMatchObject({ error: "context deadline exceeded" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(await pack.result("t1", { output_json: "late" })).toMatchObject({ ok: true });
    callTool(agent, "t2", "log_search");
    await resultOf(agent, "t2").catch(() => undefined);
    expect(agent.received.filter((f) => (f.pack_tool_result as { request_id?: string } | undefined)?.request_id === "t1")).toHaveLength(1);
  });

  it("fails pending calls the moment the pack disconnects, far under the 30 s default timeout", async () => {
    const { openPack, openAgent } = await gateway();
    const pack = openPack({ pack_id: "flaky", tools: [ECHO] });
    await pack.headers;
    const agent = await openAgent("caller");
    callTool(agent, "p1", "echo");
    callTool(agent, "p2", "echo");
    await pack.received(2);
    const cut = Date.now();
    pack.cancel();
    expect(await resultOf(agent, "p1")).toMatchObject({ error: "pack disconnected" });
    expect(await resultOf(agent, "p2")).toMatchObject({ error: "pack disconnected" });
    expect(Date.now() - cut).toBeLessThan(3_000);
  });

  it("fails a duplicate pending request_id with `duplicate request ID` and forwards only the first", async () => {
    const { openPack, openAgent } = await gateway();
    const pack = openPack({ pack_id: "demo", tools: [ECHO] });
    await pack.headers;
    const agent = await openAgent("caller");
    callTool(agent, "same", "echo", { text: "1" });
    await pack.received(1);
    callTool(agent, "same", "echo", { text: "2" });
    expect(await resultOf(agent, "same")).toMatchObject({ error: "duplicate request ID" });
    await pack.result("same", { output_json: "first" });
    await expect
      .poll(() => agent.received.filter((f) => (f.pack_tool_result as { request_id?: string } | undefined)?.request_id === "same").length)
      .toBe(2);
    expect(pack.requests).toHaveLength(1);
  });

  it("drops a call whose agent disconnects (context canceled): its request_id is free again at once", async () => {
    const { gw, openPack, openAgent } = await gateway();
    const pack = openPack({ pack_id: "demo", tools: [ECHO] });
    await pack.headers;
    const leaving = await openAgent("leaving");
    callTool(leaving, "shared-id", "echo", { text: "1" });
    await pack.received(1);
    leaving.cancel();
    // The gateway forgets the agent and aborts its calls in the same step.
    await expect.poll(() => gw.gateway.agents.get("leaving")).toBeUndefined();
    const staying = await openAgent("staying");
    callTool(staying, "shared-id", "echo", { text: "2" });
    await pack.received(2);
    expect(pack.requests[1]).toMatchObject({ request_id: "shared-id", input_json: '{"text":"2"}' });
    await pack.result("shared-id", { output_json: "second" });
    expect(await resultOf(staying, "shared-id")).toMatchObject({ output_json: "second" });
  });

  it("keeps a slow pack call off the agent's receive loop: other calls and MessageResponses flow meanwhile", async () => {
    const { gw, openPack, openAgent } = await gateway();
    const pack = openPack({ pack_id: "demo", tools: [ECHO, { name: "quick" }] });
    await pack.headers;
    pack.call.on("data", (request: { tool_name: string; request_id: string }) => {
      if (request.tool_name === "quick") void pack.result(request.request_id, { output_json: '{"quick":true}' });
    });
    const agent = await openAgent("busy", ["chat", "base"]);
    agent.call.on("data", (frame: ServerFrame) => {
      if (frame.payload !== "send_message") return;
      const id = (frame.send_message as { request_id: string }).request_id;
      agent.respond(id, { text: "still here" });
      agent.respond(id, { done: { full_response: "" } });
    });
    callTool(agent, "slow", "echo", { text: "wait" });
    await pack.received(1);
    callTool(agent, "fast", "quick");
    callTool(agent, "builtin", "log_entry", { message: "m" });
    expect(await resultOf(agent, "fast")).toMatchObject({ output_json: '{"quick":true}' });
    expect(JSON.parse((await resultOf(agent, "builtin")).output_json!)).toMatchObject({ status: "logged" });
    const sent = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "busy", sender: "alice", content: "hello" });
    expect(sent.frames.map((f) => f.event)).toEqual(["started", "text", "done"]);
    expect(agent.received.some((f) => (f.pack_tool_result as { request_id?: string } | undefined)?.request_id === "slow")).toBe(false);
    await pack.result("slow", { output_json: '{"text":"wait"}' });
    expect(await resultOf(agent, "slow")).toMatchObject({ output_json: '{"text":"wait"}' });
  });

  it("interleaves many PackToolResults with SendMessages on one stream without frame errors", async () => {
    const { gw, openAgent } = await gateway();
    const agent = await openAgent("stress", ["chat", "base"]);
    agent.call.on("data", (frame: ServerFrame) => {
      if (frame.payload !== "send_message") return;
      const id = (frame.send_message as { request_id: string }).request_id;
      agent.respond(id, { done: { full_response: "ok" } });
    });
    const N = 60;
    for (let i = 0; i < N; i += 1) callTool(agent, `s${i}`, "log_entry", { message: `m${i}` });
    const sends = Array.from({ length: 10 }, (_, i) => postSse(`${gw.httpUrl}/api/send`, { agent_id: "stress", sender: "a", content: `c${i}` }));
    const results = await Promise.all(Array.from({ length: N }, (_, i) => resultOf(agent, `s${i}`, 10_000)));
    for (const r of results) expect(JSON.parse(r.output_json!)).toMatchObject({ status: "logged" });
    for (const res of await Promise.all(sends)) expect(res.frames.at(-1)?.event).toBe("done");
    expect(agent.error).toBeUndefined();
  });

  it("ends Register UNAVAILABLE on gateway shutdown", async () => {
    const { gw, openPack } = await gateway();
    const pack = openPack({ pack_id: "demo", tools: [ECHO] });
    await pack.headers;
    await gw.stop();
    expect((await pack.status).code).toBe(grpc.status.UNAVAILABLE);
  });
});

describe("PackService with auth on", () => {
  it("refuses Register without credentials, routes only the owner's results, and closes on revocation", async () => {
    const { gw, packs } = await gateway(() => startAuthGateway());
    const anonymous = new ThirdPartyPack(packs, { pack_id: "demo", tools: [ECHO] });
    cleanups.push(() => anonymous.cancel());
    expect((await anonymous.status).code).toBe(grpc.status.UNAUTHENTICATED);

    const ownerId = await seedPrincipal(gw.gateway.store.db, { type: "client" });
    const otherId = await seedPrincipal(gw.gateway.store.db, { type: "client" });
    const pack = new ThirdPartyPack(packs, { pack_id: "demo", tools: [ECHO] }, bearerMetadata(await tokenFor(ownerId)));
    cleanups.push(() => pack.cancel());
    await pack.headers;
    const stranger = new ThirdPartyPack(packs, { pack_id: "other", tools: [] }, bearerMetadata(await tokenFor(otherId)));
    cleanups.push(() => stranger.cancel());
    await stranger.headers;

    const agentId = await seedPrincipal(gw.gateway.store.db, { type: "agent" });
    const control = covenControlClient(gw.grpcAddr);
    cleanups.push(() => control.close());
    const agent = new ThirdPartyAgentStream(control, bearerMetadata(await tokenFor(agentId)));
    agent.call.on("error", () => {});
    cleanups.push(() => agent.cancel());
    agent.register("authed-agent");
    await agent.next("welcome");

    callTool(agent, "r1", "echo");
    await pack.received(1);
    expect(await stranger.result("r1", { output_json: "forged" })).toMatchObject({ ok: true });
    await pack.result("r1", { output_json: "genuine" });
    expect(await resultOf(agent, "r1")).toMatchObject({ output_json: "genuine" });

    callTool(agent, "r2", "echo");
    await pack.received(2);
    await gw.gateway.identity.service.revokePrincipal("admin-actor", ownerId);
    const status = await pack.status;
    expect({ code: status.code, details: status.details }).toEqual({ code: grpc.status.PERMISSION_DENIED, details: "principal has been revoked" });
    expect(await resultOf(agent, "r2")).toMatchObject({ error: "pack disconnected" });
  });
});
