// ABOUTME: Operations on the WebSocket edge with the `ws` client: the ws_requests bucket with retry_after_ms, maintenance
// ABOUTME: refusing `send` (events to every connection, state in the hello snapshot), and the ws metrics moving exactly.
import { afterEach, describe, expect, it } from "vitest";
import { createCleanups } from "../e2e/support/conversation-e2e.js";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "../support/gateway-harness.js";
import { parseExposition, valueOf } from "../support/prom-text.js";
import { WsClient, WsSchema } from "../ws/support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function gateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  cleanups.add(() => gw.stop());
  return gw;
}

async function open(gw: TestGateway): Promise<WsClient> {
  const client = await WsClient.open(gw.httpUrl, await WsSchema.fetch(gw.httpUrl));
  cleanups.add(() => client.close());
  return client;
}

const scrape = async (gw: TestGateway) => parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());

describe("WebSocket operations", () => {
  it("refuses the (burst+1)-th req of a connection with RESOURCE_EXHAUSTED and retry_after_ms", async () => {
    const gw = await gateway({ mutate: (c) => ({ ...c, rateLimits: { ...c.rateLimits, wsRequests: { rate: 1, burst: 2 } } }) });
    const c = await open(gw);
    expect((await c.hello()).type).toBe("hello-ok");
    expect((await c.call("ping")).ok).toBe(true);
    expect((await c.call("ping")).ok).toBe(true);
    const refused = await c.call("ping");
    expect(refused.ok).toBe(false);
    expect(refused.error.code).toBe("RESOURCE_EXHAUSTED");
    expect(refused.error.message).toBe("rate limit exceeded");
    expect(refused.error.retry_after_ms).toBeGreaterThan(0);
    expect(refused.error.retry_after_ms).toBeLessThanOrEqual(1000);
    // Another connection has its own bucket.
    const other = await open(gw);
    await other.hello();
    expect((await other.call("ping")).ok).toBe(true);
    const metrics = await scrape(gw);
    expect(valueOf(metrics, "coven_rate_limited_total", { scope: "ws" })).toBe(1);
    expect(valueOf(metrics, "coven_ws_requests_total", { method: "ping", code: "OK" })).toBe(3);
    expect(valueOf(metrics, "coven_ws_requests_total", { method: "ping", code: "RESOURCE_EXHAUSTED" })).toBe(1);
    expect(valueOf(metrics, "coven_ws_connections")).toBe(2);
  });

  it("announces maintenance to every connection and refuses send with its text and retry hint", async () => {
    const gw = await gateway();
    const c = await open(gw);
    const hello = await c.hello();
    expect(hello.snapshot.maintenance).toEqual({ enabled: false, message: "", since: null });
    await fetch(`${gw.httpUrl}/api/admin/maintenance`, { method: "POST", body: JSON.stringify({ enabled: true, message: "moving racks" }) });
    const event = await c.waitFor((f) => f.type === "event" && f.event === "maintenance");
    expect(event.payload).toMatchObject({ enabled: true, message: "moving racks" });
    const refused = await c.call("send", { content: "hi", idempotency_key: "k", agent_id: "nobody" });
    expect(refused.error).toEqual({ code: "UNAVAILABLE", message: "maintenance: moving racks", retry_after_ms: 60000 });
    // Every other method still works.
    expect((await c.call("agents.list")).ok).toBe(true);
    const late = await open(gw);
    expect((await late.hello()).snapshot.maintenance).toMatchObject({ enabled: true, message: "moving racks" });
  });

  it("counts closes by code and drops the connection gauge", async () => {
    const gw = await gateway();
    const c = await open(gw);
    await c.hello();
    await c.close();
    await expect.poll(async () => valueOf(await scrape(gw), "coven_ws_connections")).toBe(0);
    const metrics = await scrape(gw);
    const closes = metrics.get("coven_ws_closes_total")?.samples ?? [];
    expect(closes.reduce((n, s) => n + s.value, 0)).toBe(1);
    expect(closes.every((s) => ["1000", "1005", "1006", "other"].includes(s.labels["code"] ?? ""))).toBe(true);
  });
});
