// ABOUTME: Each rate-limit bucket of ops.md §2 at its edge: the (burst+1)-th request refused with the exact answer and
// ABOUTME: retry hint, refill on an injected clock, disabled buckets, and the order (address limit before authentication).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfig, RateLimitsConfig } from "../../src/config/types.js";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { clientServiceClient } from "../support/proto-client.js";
import { parseExposition, valueOf } from "../support/prom-text.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A wall clock the test moves by hand. */
function manualClock() {
  let ms = Date.parse("2026-03-01T12:00:00.000Z");
  return { clock: { now: () => new Date(ms) }, advance: (delta: number) => void (ms += delta) };
}

const limits = (patch: Partial<RateLimitsConfig>) => (c: GatewayConfig): GatewayConfig => ({
  ...c,
  rateLimits: { ...c.rateLimits, ...patch },
});

async function gateway(options: TestGatewayOptions & { auth?: boolean } = {}): Promise<TestGateway> {
  const gw = options.auth ? await startAuthGateway(options) : await startTestGateway(options);
  cleanups.push(() => gw.stop());
  return gw;
}

async function metric(gw: TestGateway, name: string, labels: Record<string, string>): Promise<number> {
  return valueOf(parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text()), name, labels);
}

describe("http_per_address", () => {
  it("refuses the (burst+1)-th request with 429, the exact body and Retry-After, then refills", async () => {
    const { clock, advance } = manualClock();
    const gw = await gateway({ clock, mutate: limits({ httpPerAddress: { rate: 0.5, burst: 3 } }) });
    for (let i = 0; i < 3; i += 1) expect((await fetch(`${gw.httpUrl}/api/agents`)).status).toBe(200);
    const refused = await fetch(`${gw.httpUrl}/api/agents`);
    expect([refused.status, await refused.text(), refused.headers.get("retry-after")]).toEqual([
      429,
      '{"error":"rate limit exceeded"}\n',
      "2",
    ]);
    // Refused requests take nothing; health and metrics are never limited.
    expect((await fetch(`${gw.httpUrl}/health`)).status).toBe(200);
    expect(await metric(gw, "coven_rate_limited_total", { scope: "http_address" })).toBe(1);
    advance(1_999);
    expect((await fetch(`${gw.httpUrl}/api/agents`)).status).toBe(429);
    advance(1);
    expect((await fetch(`${gw.httpUrl}/api/agents`)).status).toBe(200);
  });

  it("refuses before authentication, so the refusal counts no auth failure", async () => {
    const gw = await gateway({ auth: true, mutate: limits({ httpPerAddress: { rate: 1, burst: 1 } }) });
    expect((await fetch(`${gw.httpUrl}/api/agents`)).status).toBe(401);
    const refused = await fetch(`${gw.httpUrl}/api/agents`);
    expect(refused.status).toBe(429);
    expect(await metric(gw, "coven_auth_failures_total", { edge: "http", reason: "missing" })).toBe(1);
  });

  it("is off with rate 0 and with rate_limits.enabled false", async () => {
    for (const mutate of [limits({ httpPerAddress: { rate: 0, burst: 1 } }), limits({ enabled: false, httpPerAddress: { rate: 1, burst: 1 } })]) {
      const gw = await gateway({ mutate });
      for (let i = 0; i < 5; i += 1) expect((await fetch(`${gw.httpUrl}/api/agents`)).status).toBe(200);
    }
  });
});

describe("http_per_principal", () => {
  it("counts every non-GET /api/* request of a principal after authentication", async () => {
    const gw = await gateway({ auth: true, mutate: limits({ httpPerPrincipal: { rate: 1, burst: 2 } }) });
    const id = await seedPrincipal(gw.gateway.store.db);
    const headers = { authorization: `Bearer ${await tokenFor(id)}` };
    const cancel = () => fetch(`${gw.httpUrl}/api/requests/nope/cancel`, { method: "POST", headers });
    for (let i = 0; i < 5; i += 1) expect((await fetch(`${gw.httpUrl}/api/agents`, { headers })).status).toBe(200);
    expect((await cancel()).status).toBe(404);
    expect((await cancel()).status).toBe(404);
    const refused = await cancel();
    expect([refused.status, await refused.text(), refused.headers.get("retry-after")]).toEqual([429, '{"error":"rate limit exceeded"}\n', "1"]);
    // Another principal has its own bucket.
    const other = await seedPrincipal(gw.gateway.store.db);
    const res = await fetch(`${gw.httpUrl}/api/requests/nope/cancel`, { method: "POST", headers: { authorization: `Bearer ${await tokenFor(other)}` } });
    expect(res.status).toBe(404);
    expect(await metric(gw, "coven_rate_limited_total", { scope: "http_principal" })).toBe(1);
  });
});

describe("grpc_send", () => {
  it("refuses SendMessage with RESOURCE_EXHAUSTED `rate limit exceeded` and the retry-after-ms trailer", async () => {
    const { clock } = manualClock();
    const gw = await gateway({ clock, mutate: limits({ grpcSend: { rate: 1, burst: 1 } }) });
    const client = clientServiceClient(gw.grpcAddr);
    cleanups.push(() => client.close());
    const send = (key: string) =>
      new Promise<{ err: grpc.ServiceError | null }>((resolve) => {
        (client.SendMessage as (r: object, cb: (err: grpc.ServiceError | null) => void) => void).call(
          client,
          { conversation_key: "nobody", content: "x", idempotency_key: key },
          (err) => resolve({ err }),
        );
      });
    const first = await send("a");
    expect(first.err?.code).toBe(grpc.status.NOT_FOUND);
    const second = await send("b");
    expect([second.err?.code, second.err?.details]).toEqual([grpc.status.RESOURCE_EXHAUSTED, "rate limit exceeded"]);
    expect(second.err?.metadata.get("retry-after-ms")).toEqual(["1000"]);
    expect(await metric(gw, "coven_rate_limited_total", { scope: "grpc_send" })).toBe(1);
  });
});

describe("mcp_calls", () => {
  it("refuses tools/call per session with JSON-RPC -32000 `rate limit exceeded`", async () => {
    const gw = await gateway({ mutate: limits({ mcpCalls: { rate: 1, burst: 2 } }) });
    const client = new Client({ name: "rate-test", version: "0.0.1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`)));
    cleanups.push(() => client.close());
    await client.callTool({ name: "todo_list" });
    await client.callTool({ name: "todo_list" });
    await expect(client.callTool({ name: "todo_list" })).rejects.toMatchObject({ code: -32000, message: expect.stringContaining("rate limit exceeded") });
    // tools/list is not a call.
    await client.listTools();
    expect(await metric(gw, "coven_rate_limited_total", { scope: "mcp" })).toBe(1);
    expect(await metric(gw, "coven_mcp_requests_total", { method: "tools/call" })).toBe(3);
    expect(await metric(gw, "coven_mcp_sessions", {})).toBe(1);
  });
});
