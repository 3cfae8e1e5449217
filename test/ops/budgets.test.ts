// ABOUTME: Costs and enforced budgets (ops.md §4) through a real gateway: a priced usage row, the cost fields of the
// ABOUTME: stats, the 402 refusal text with its audit row once spend reaches the limit, and GET /api/budgets.
import { afterEach, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { usageAgent as connectUsageAgent } from "./support/usage-agent.js";
import { postSse } from "../support/sse-client.js";

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
});
