// ABOUTME: Budget periods (ops.md §4.4-§4.5) under a manual clock: day and month rollover reset spend, and a restart
// ABOUTME: (a second gateway over the same SQLite file) seeds spend and the already-announced warning from the store.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfig } from "../../src/config/types.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { manualClock, type ManualClock } from "../support/manual-clock.js";
import { usageAgent as connectUsageAgent } from "./support/usage-agent.js";
import { postSse } from "../support/sse-client.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const MINUTE = 60_000;

/** 1000 input × 3 + 100 output × 15 per million = 4500 micros (0.0045 USD) per turn. */
function priced(budgets: GatewayConfig["budgets"]) {
  return (c: GatewayConfig): GatewayConfig => ({
    ...c,
    costs: { currency: "USD", rates: [{ agents: ["*"], backends: ["*"], input: 3, output: 15, cacheRead: 3, cacheWrite: 3, thinking: 15 }] },
    budgets,
  });
}

async function gateway(clock: ManualClock, mutate: (c: GatewayConfig) => GatewayConfig, dir?: string): Promise<TestGateway> {
  const gw = await startTestGateway({ clock, mutate, ...(dir === undefined ? {} : { dir }) });
  cleanups.push(() => gw.stop());
  return gw;
}

function usageAgent(gw: TestGateway, agentId: string): Promise<void> {
  return connectUsageAgent(gw.grpcAddr, agentId, (fn) => cleanups.push(fn));
}

async function send(gw: TestGateway, agentId: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${gw.httpUrl}/api/send`, { method: "POST", body: JSON.stringify({ agent_id: agentId, sender: "a", content: "go" }) });
  return { status: res.status, body: await res.text() };
}

async function budgets(gw: TestGateway): Promise<Array<Record<string, unknown>>> {
  return ((await (await fetch(`${gw.httpUrl}/api/budgets`)).json()) as { budgets: Array<Record<string, unknown>> }).budgets;
}

describe("budget periods", () => {
  it("a day budget refuses until midnight UTC, then the new day starts from nothing", async () => {
    const clock = manualClock(Date.UTC(2026, 2, 10, 23, 58, 0));
    const gw = await gateway(clock, priced([{ scope: "agent", id: "day-*", period: "day", limit: 0.004, warnAt: 0.8 }]));
    await usageAgent(gw, "day-1");
    expect((await postSse(`${gw.httpUrl}/api/send`, { agent_id: "day-1", sender: "a", content: "one" })).status).toBe(200);
    expect(await send(gw, "day-1")).toEqual({ status: 402, body: '{"error":"budget exceeded: agent day-1 spent 0.00 of 0.00 USD this day"}\n' });
    expect((await budgets(gw))[0]).toMatchObject({ id: "day-1", spent: 0.0045, period_start: "2026-03-10T00:00:00Z", state: "exceeded" });

    clock.advance(2 * MINUTE);
    // A glob budget lists only keys with spend in the current period: none yet.
    expect(await budgets(gw)).toEqual([]);
    expect((await postSse(`${gw.httpUrl}/api/send`, { agent_id: "day-1", sender: "a", content: "two" })).status).toBe(200);
    expect((await budgets(gw))[0]).toMatchObject({ id: "day-1", spent: 0.0045, period_start: "2026-03-11T00:00:00Z", state: "exceeded" });
    // One warning per budget, key and period: the new day announced again.
    const warnings = await createAuditRepository(gw.gateway.store.db).list({ action: "budget_warning", limit: 10 });
    expect(warnings).toHaveLength(2);
  });

  it("a month budget spans the days of its month and resets on the first of the next", async () => {
    const clock = manualClock(Date.UTC(2026, 0, 30, 12, 0, 0));
    const gw = await gateway(clock, priced([{ scope: "agent", id: "mon", period: "month", limit: 0.008, warnAt: 1 }]));
    await usageAgent(gw, "mon");
    expect((await postSse(`${gw.httpUrl}/api/send`, { agent_id: "mon", sender: "a", content: "one" })).status).toBe(200);
    clock.advance(24 * 60 * MINUTE); // Jan 31: same month, spend carries.
    expect((await postSse(`${gw.httpUrl}/api/send`, { agent_id: "mon", sender: "a", content: "two" })).status).toBe(200);
    expect((await send(gw, "mon")).status).toBe(402);
    expect(await budgets(gw)).toEqual([
      { scope: "agent", id: "mon", period: "month", limit: 0.008, spent: 0.009, currency: "USD", period_start: "2026-01-01T00:00:00Z", state: "exceeded" },
    ]);
    clock.advance(12 * 60 * MINUTE); // Feb 1 00:00.
    expect(await budgets(gw)).toEqual([
      { scope: "agent", id: "mon", period: "month", limit: 0.008, spent: 0, currency: "USD", period_start: "2026-02-01T00:00:00Z", state: "ok" },
    ]);
    expect((await postSse(`${gw.httpUrl}/api/send`, { agent_id: "mon", sender: "a", content: "three" })).status).toBe(200);
  });

  it("after a restart over the same database, spend is seeded and a warning already announced is not written again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coven-budget-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = manualClock(Date.UTC(2026, 4, 5, 9, 0, 0));
    const config = priced([{ scope: "agent", id: "keep", period: "day", limit: 0.01, warnAt: 0.4 }]);
    const first = await gateway(clock, config, dir);
    await usageAgent(first, "keep");
    expect((await postSse(`${first.httpUrl}/api/send`, { agent_id: "keep", sender: "a", content: "one" })).status).toBe(200);
    await first.stop();

    const second = await gateway(clock, config, dir);
    expect((await budgets(second))[0]).toMatchObject({ id: "keep", spent: 0.0045, state: "warning" });
    await usageAgent(second, "keep");
    expect((await postSse(`${second.httpUrl}/api/send`, { agent_id: "keep", sender: "a", content: "two" })).status).toBe(200);
    expect((await postSse(`${second.httpUrl}/api/send`, { agent_id: "keep", sender: "a", content: "three" })).status).toBe(200);
    expect(await send(second, "keep")).toEqual({ status: 402, body: '{"error":"budget exceeded: agent keep spent 0.01 of 0.01 USD this day"}\n' });
    const audit = createAuditRepository(second.gateway.store.db);
    expect(await audit.list({ action: "budget_warning", limit: 10 })).toHaveLength(1);
    expect(await audit.list({ action: "budget_refused", limit: 10 })).toHaveLength(1);
  });
});
