// ABOUTME: Budget refusals (ops.md §4.5) on the gRPC, WebSocket and web chat ingresses after one priced turn: exact
// ABOUTME: texts and statuses, nothing written but the budget_refused audit row, and coven_budget_refusals_total moved.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfig } from "../../src/config/types.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { createCleanups, openClient } from "../e2e/support/conversation-e2e.js";
import { unary } from "../rpc/support/conversation-clients.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { parseExposition, valueOf } from "../support/prom-text.js";
import { usageAgent as connectUsageAgent } from "./support/usage-agent.js";
import { postSse } from "../support/sse-client.js";
import { signedIn } from "../webadmin/support.js";
import { WsClient, WsSchema } from "../ws/support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

const TEXT = "budget exceeded: agent spend-1 spent 0.00 of 0.00 USD this day";

function usageAgent(gw: TestGateway, agentId: string): Promise<void> {
  return connectUsageAgent(gw.grpcAddr, agentId, (fn) => cleanups.add(fn));
}

describe("budget refusals on every ingress", () => {
  it("refuses gRPC SendMessage, WS send and the web chat with the budget text once the agent's spend reached its limit", async () => {
    const gw = await startTestGateway({
      mutate: (c: GatewayConfig) => ({
        ...c,
        webadmin: { baseUrl: "http://localhost:8080" },
        costs: { currency: "USD", rates: [{ agents: ["*"], backends: ["*"], input: 3, output: 15, cacheRead: 3, cacheWrite: 3, thinking: 15 }] },
        budgets: [{ scope: "agent", id: "spend-1", period: "day", limit: 0.004, warnAt: 0.8 }],
      }),
    });
    cleanups.add(() => gw.stop());
    await usageAgent(gw, "spend-1");
    expect((await postSse(`${gw.httpUrl}/api/send`, { agent_id: "spend-1", sender: "a", content: "one" })).status).toBe(200);
    const appendsBefore = valueOf(parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text()), "coven_ledger_appends_total");

    const refusedGrpc = await unary(openClient(cleanups, gw.grpcAddr), "SendMessage", { conversation_key: "spend-1", content: "two", idempotency_key: "g-1" });
    expect(refusedGrpc).toMatchObject({ ok: false, code: grpc.status.RESOURCE_EXHAUSTED, details: TEXT });

    const ws = await WsClient.open(gw.httpUrl, await WsSchema.fetch(gw.httpUrl));
    cleanups.add(() => ws.close());
    await ws.hello();
    const refusedWs = await ws.call("send", { content: "three", idempotency_key: "w-1", agent_id: "spend-1" });
    expect(refusedWs.error).toEqual({ code: "RESOURCE_EXHAUSTED", message: TEXT });

    const browser = await signedIn(gw);
    const refusedChat = await browser.form("/chat/spend-1/send", { message: "four" });
    expect([refusedChat.statusCode, refusedChat.body]).toEqual([402, TEXT]);

    const metrics = parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
    expect(valueOf(metrics, "coven_budget_refusals_total", { scope: "agent" })).toBe(3);
    expect(valueOf(metrics, "coven_budget_refusals_total", { scope: "principal" })).toBe(0);
    // Nothing was written for the refused sends: no user message reached the ledger.
    expect(valueOf(metrics, "coven_ledger_appends_total")).toBe(appendsBefore);
    const refusals = await createAuditRepository(gw.gateway.store.db).list({ action: "budget_refused", limit: 10 });
    expect(refusals.map((r) => r.targetId)).toEqual(["agent:spend-1", "agent:spend-1", "agent:spend-1"]);
  });
});
