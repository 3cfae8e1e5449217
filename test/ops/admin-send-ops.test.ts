// ABOUTME: The builtin `admin_send_message` under operations (ops.md §4.5): maintenance after the self check, budgets after
// ABOUTME: the target check, as tool errors with the exact texts; its turns count as ingress `tool` for the caller's principal.
import { afterEach, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "../support/gateway-harness.js";
import { parseExposition, valueOf } from "../support/prom-text.js";
import { covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../support/proto-client.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function gateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  cleanups.push(() => gw.stop());
  return gw;
}

/** A real agent stream; `worker`s answer every message with a priced usage row and `done`. */
async function agent(gw: TestGateway, agentId: string, capabilities: string[]): Promise<ThirdPartyAgentStream> {
  const client = covenControlClient(gw.grpcAddr);
  cleanups.push(() => client.close());
  const stream = new ThirdPartyAgentStream(client);
  stream.call.on("error", () => {});
  stream.call.on("data", (frame: ServerFrame) => {
    if (frame.payload !== "send_message") return;
    const id = (frame.send_message as { request_id: string }).request_id;
    stream.respond(id, { usage: { input_tokens: 1000, output_tokens: 100, cache_read_tokens: 0, cache_write_tokens: 0, thinking_tokens: 0 } });
    stream.respond(id, { done: { full_response: "done it" } });
  });
  cleanups.push(() => stream.cancel());
  stream.register(agentId, { capabilities, protocol_features: ["token_usage"] });
  await stream.next("welcome");
  return stream;
}

let n = 0;
async function send(boss: ThirdPartyAgentStream, input: object): Promise<{ output?: string; error?: string }> {
  const requestId = `admin-send-${++n}`;
  boss.send({ execute_pack_tool: { request_id: requestId, tool_name: "admin_send_message", input_json: JSON.stringify(input) } });
  const frame = await boss.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === requestId);
  const result = frame.pack_tool_result as { output_json?: string; error?: string; result: string };
  return result.result === "error" ? { error: result.error! } : { output: result.output_json! };
}

describe("admin_send_message under maintenance", () => {
  it("answers the earlier checks first, then the tool error `maintenance: <message>`; off again, it sends", async () => {
    const gw = await gateway();
    const boss = await agent(gw, "boss", ["admin"]);
    await agent(gw, "worker", ["chat"]);
    await gw.gateway.domain.ops.maintenance.set({ enabled: true, message: "moving racks", actor: "system" });
    expect(await send(boss, { agent_id: "boss", content: "x" })).toEqual({ error: "cannot send message to self" });
    expect(await send(boss, { agent_id: "worker", content: "x" })).toEqual({ error: "maintenance: moving racks" });
    // Maintenance comes before the target check: an unknown target is refused for maintenance too.
    expect(await send(boss, { agent_id: "ghost", content: "x" })).toEqual({ error: "maintenance: moving racks" });
    await gw.gateway.domain.ops.maintenance.set({ enabled: false, actor: "system" });
    expect(await send(boss, { agent_id: "worker", content: "x" })).toEqual({ output: '{"agent_id":"worker","done":true,"response":"done it","status":"sent"}' });
    const metrics = parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
    expect(valueOf(metrics, "coven_turns_started_total", { ingress: "tool" })).toBe(1);
    expect(valueOf(metrics, "coven_turns_total", { ingress: "tool", outcome: "done" })).toBe(1);
  });
});

describe("admin_send_message under budgets", () => {
  it("refuses with the budget text after the target check once the target agent's spend reached its limit", async () => {
    const gw = await gateway({
      mutate: (c) => ({
        ...c,
        // 1000 × 3 + 100 × 15 = 4500 micros per turn.
        costs: { currency: "USD", rates: [{ agents: ["*"], backends: ["*"], input: 3, output: 15, cacheRead: 3, cacheWrite: 3, thinking: 15 }] },
        budgets: [{ scope: "agent", id: "worker", period: "day", limit: 0.004, warnAt: 0.8 }],
      }),
    });
    const boss = await agent(gw, "boss", ["admin"]);
    await agent(gw, "worker", ["chat"]);
    expect((await send(boss, { agent_id: "worker", content: "one" })).output).toContain('"status":"sent"');
    expect(await send(boss, { agent_id: "ghost", content: "x" })).toEqual({ error: "sending message: agent not found" });
    expect(await send(boss, { agent_id: "worker", content: "two" })).toEqual({ error: "budget exceeded: agent worker spent 0.00 of 0.00 USD this day" });
    const refusals = await createAuditRepository(gw.gateway.store.db).list({ action: "budget_refused", limit: 5 });
    expect(refusals.map((a) => [a.actor, a.targetId])).toEqual([["anonymous", "agent:worker"]]);
    const metrics = parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
    expect(valueOf(metrics, "coven_budget_refusals_total", { scope: "agent" })).toBe(1);
  });

  it("counts the turn for the calling agent's principal budget", async () => {
    const gw = await gateway({
      mutate: (c) => ({
        ...c,
        costs: { currency: "USD", rates: [{ agents: ["*"], backends: ["*"], input: 3, output: 15, cacheRead: 3, cacheWrite: 3, thinking: 15 }] },
        budgets: [{ scope: "principal", id: "anonymous", period: "month", limit: 0.004, warnAt: 0.8 }],
      }),
    });
    const boss = await agent(gw, "boss", ["admin"]);
    await agent(gw, "worker", ["chat"]);
    expect((await send(boss, { agent_id: "worker", content: "one" })).output).toContain('"status":"sent"');
    expect(await send(boss, { agent_id: "worker", content: "two" })).toEqual({ error: "budget exceeded: principal anonymous spent 0.00 of 0.00 USD this month" });
  });
});
