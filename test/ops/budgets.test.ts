// ABOUTME: Costs and enforced budgets (ops.md §4) through a real gateway: a priced usage row, the cost fields of the
// ABOUTME: stats, the 402 refusal text with its audit row once spend reaches the limit, and GET /api/budgets.
import { afterEach, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { usageAgent as connectUsageAgent } from "./support/usage-agent.js";
import { postSse } from "../support/sse-client.js";
import { covenControlClient, ThirdPartyAgentStream } from "../support/proto-client.js";
import { createCleanups, SseSession } from "../e2e/support/conversation-e2e.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function usageAgent(gw: TestGateway, agentId: string): Promise<void> {
  return connectUsageAgent(gw.grpcAddr, agentId, (fn) => cleanups.push(fn));
}

describe("costs and budgets", () => {
  it("prices usage, refuses the next send with 402 once the agent's daily spend reaches its limit, and lists it", async () => {
    const gw = await startTestGateway({
      mutate: (c) => ({
        ...c,
        // 1000 × 3 + 100 × 15 = 4500 micros per turn.
        costs: { currency: "USD", rates: [{ agents: ["opus-*"], backends: ["*"], input: 3, output: 15, cacheRead: 3, cacheWrite: 3, thinking: 15 }] },
        budgets: [{ scope: "agent", id: "opus-1", period: "day", limit: 0.004, warnAt: 0.5 }],
      }),
    });
    cleanups.push(() => gw.stop());
    await usageAgent(gw, "opus-1");
    const first = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "opus-1", sender: "a", content: "one" });
    expect(first.status).toBe(200);
    const stats = (await (await fetch(`${gw.httpUrl}/api/stats/usage`)).json()) as Record<string, unknown>;
    expect(stats).toMatchObject({ total_input: 1000, cost: 0.0045, currency: "USD", unpriced_requests: 0 });
    const refused = await fetch(`${gw.httpUrl}/api/send`, { method: "POST", body: JSON.stringify({ agent_id: "opus-1", sender: "a", content: "two" }) });
    expect([refused.status, await refused.text()]).toEqual([402, '{"error":"budget exceeded: agent opus-1 spent 0.00 of 0.00 USD this day"}\n']);
    const audit = createAuditRepository(gw.gateway.store.db);
    const refusals = await audit.list({ action: "budget_refused", limit: 5 });
    expect(refusals.map((a) => [a.actor, a.targetType, a.targetId])).toEqual([["anonymous", "budget", "agent:opus-1"]]);
    expect(JSON.parse(refusals[0]!.detailJson!)).toEqual({ scope: "agent", key: "opus-1", period: "day", spent_micros: 4500, limit_micros: 4000, agent_id: "opus-1" });
    expect((await audit.list({ action: "budget_warning", limit: 5 })).length).toBe(1);
    const budgets = (await (await fetch(`${gw.httpUrl}/api/budgets`)).json()) as { budgets: Array<Record<string, unknown>> };
    expect(budgets.budgets).toEqual([
      { scope: "agent", id: "opus-1", period: "day", limit: 0.004, spent: 0.0045, currency: "USD", period_start: expect.stringMatching(/T00:00:00Z$/), state: "exceeded" },
    ]);
  });

  it("lists a glob budget once per key with spend, in key order, beside a plain budget that always has its entry", async () => {
    const gw = await startTestGateway({
      mutate: (c) => ({
        ...c,
        costs: { currency: "USD", rates: [{ agents: ["opus-*"], backends: ["*"], input: 3, output: 15, cacheRead: 3, cacheWrite: 3, thinking: 15 }] },
        budgets: [
          { scope: "agent", id: "opus-*", period: "month", limit: 1, warnAt: 0.8 },
          { scope: "agent", id: "idle-agent", period: "day", limit: 2, warnAt: 0.8 },
        ],
      }),
    });
    cleanups.push(() => gw.stop());
    await usageAgent(gw, "opus-b");
    await usageAgent(gw, "opus-a");
    await usageAgent(gw, "opus-c");
    for (const agent of ["opus-b", "opus-a", "opus-b"]) {
      expect((await postSse(`${gw.httpUrl}/api/send`, { agent_id: agent, sender: "s", content: "x" })).status).toBe(200);
    }
    const budgets = (await (await fetch(`${gw.httpUrl}/api/budgets`)).json()) as { budgets: Array<Record<string, unknown>> };
    // opus-c spent nothing: a glob budget has no entry for it.
    expect(budgets.budgets.map((b) => [b.id, b.period, b.spent, b.state])).toEqual([
      ["opus-a", "month", 0.0045, "ok"],
      ["opus-b", "month", 0.009, "ok"],
      ["idle-agent", "day", 0, "ok"],
    ]);
    expect(budgets.budgets[0]).toMatchObject({ scope: "agent", limit: 1, currency: "USD", period_start: expect.stringMatching(/-01T00:00:00Z$/) });
  });

  it("never cuts off a turn in flight: usage arriving after the limit still counts and the next send is refused", async () => {
    const gw = await startTestGateway({
      mutate: (c) => ({
        ...c,
        // 1,000,000 input tokens at 3 per million: 3.00 USD a turn.
        costs: { currency: "USD", rates: [{ agents: ["*"], backends: ["*"], input: 3, output: 15, cacheRead: 3, cacheWrite: 3, thinking: 15 }] },
        budgets: [{ scope: "agent", id: "held", period: "day", limit: 5, warnAt: 0.8 }],
      }),
    });
    const local = createCleanups();
    cleanups.push(() => local.run());
    cleanups.push(() => gw.stop());
    const client = covenControlClient(gw.grpcAddr);
    local.add(() => client.close());
    const agent = new ThirdPartyAgentStream(client as never);
    local.add(() => agent.cancel());
    agent.call.on("error", () => {});
    agent.register("held", { protocol_features: ["token_usage"] });
    await agent.next("welcome");
    const usage = { usage: { input_tokens: 1_000_000, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, thinking_tokens: 0 } };

    // Both turns are admitted while nothing is spent.
    const first = new SseSession(local, `${gw.httpUrl}/api/send`, { agent_id: "held", sender: "s", content: "one" });
    const firstId = (await first.next("started")).request_id as string;
    const second = new SseSession(local, `${gw.httpUrl}/api/send`, { agent_id: "held", sender: "s", content: "two" });
    const secondId = (await second.next("started")).request_id as string;
    agent.respond(firstId, usage);
    agent.respond(firstId, { done: { full_response: "ok" } });
    await first.ended();
    // 3.00 of 5.00: still under the limit. The second turn's usage takes the spend past it mid-turn.
    agent.respond(secondId, usage);
    agent.respond(secondId, { text: { text: "still going" } });
    agent.respond(secondId, { done: { full_response: "still going" } });
    const finished = await second.ended();
    expect(finished.frames.map((f) => f.event).slice(-1)).toEqual(["done"]);

    const refused = await fetch(`${gw.httpUrl}/api/send`, { method: "POST", body: JSON.stringify({ agent_id: "held", sender: "s", content: "three" }) });
    expect([refused.status, await refused.text()]).toEqual([402, '{"error":"budget exceeded: agent held spent 6.00 of 5.00 USD this day"}\n']);
  });
});
