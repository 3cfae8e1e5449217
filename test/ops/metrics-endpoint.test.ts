// ABOUTME: GET /metrics over a real HTTP listener, parsed strictly: every ops.md §1.3 family with its type, counters
// ABOUTME: moved by exact amounts after scripted turns, bounded series, access rules (token, loopback, proxy, disabled).
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { Counter, Registry } from "prom-client";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "../support/gateway-harness.js";
import { callUnary, clientServiceClient, covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../support/proto-client.js";
import { postSse } from "../support/sse-client.js";
import { parseExposition, valueOf, type Family } from "../support/prom-text.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Every metric of ops.md §1.3 with its type. */
const GATEWAY_METRICS: Record<string, string> = {
  coven_build_info: "gauge",
  coven_agents_connected: "gauge",
  coven_agent_streams_total: "counter",
  coven_agent_stream_closes_total: "counter",
  coven_turns_started_total: "counter",
  coven_turns_total: "counter",
  coven_turns_in_flight: "gauge",
  coven_turn_duration_seconds: "histogram",
  coven_turn_first_event_seconds: "histogram",
  coven_text_chunks_total: "counter",
  coven_agent_events_discarded_total: "counter",
  coven_subscribers: "gauge",
  coven_subscriber_overflows_total: "counter",
  coven_backpressure_pauses_total: "counter",
  coven_write_waits_total: "counter",
  coven_write_stalls_total: "counter",
  coven_ws_connections: "gauge",
  coven_ws_closes_total: "counter",
  coven_ws_requests_total: "counter",
  coven_ledger_appends_total: "counter",
  coven_ledger_commit_seconds: "histogram",
  coven_db_size_bytes: "gauge",
  coven_auth_failures_total: "counter",
  coven_lockouts_total: "counter",
  coven_rate_limited_total: "counter",
  coven_approvals_total: "counter",
  coven_approvals_pending: "gauge",
  coven_questions_total: "counter",
  coven_questions_pending: "gauge",
  coven_pack_calls_total: "counter",
  coven_pack_call_seconds: "histogram",
  coven_mcp_sessions: "gauge",
  coven_mcp_requests_total: "counter",
  coven_guard_matches_total: "counter",
  coven_tokens_total: "counter",
  coven_cost_micros_total: "counter",
  coven_budget_refusals_total: "counter",
  coven_maintenance: "gauge",
  coven_event_loop_utilization: "gauge",
};

async function gateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  cleanups.push(() => gw.stop());
  return gw;
}

/** A scripted agent: `text` chunks then done; content "fail" answers an error. */
async function agent(gw: TestGateway, agentId: string): Promise<ThirdPartyAgentStream> {
  const client = covenControlClient(gw.grpcAddr);
  cleanups.push(() => client.close());
  const stream = new ThirdPartyAgentStream(client as never);
  stream.call.on("data", (frame: ServerFrame) => {
    if (frame.payload !== "send_message") return;
    const msg = frame.send_message as Record<string, unknown>;
    const id = msg.request_id as string;
    if (msg.content === "fail") {
      stream.respond(id, { error: "boom" });
      return;
    }
    stream.respond(id, { text: "a" });
    stream.respond(id, { text: "b" });
    stream.respond(id, { usage: { input_tokens: 10, output_tokens: 5, cache_read_tokens: 0, cache_write_tokens: 0, thinking_tokens: 1 } });
    stream.respond(id, { done: { full_response: "" } });
  });
  stream.call.on("error", () => {});
  stream.register(agentId, { protocol_features: ["token_usage"] });
  await stream.next("welcome");
  cleanups.push(() => stream.cancel());
  return stream;
}

async function scrape(gw: TestGateway, headers: Record<string, string> = {}): Promise<Map<string, Family>> {
  const res = await fetch(`${gw.httpUrl}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await res.text());
}

describe("the strict exposition parser", () => {
  it("accepts prom-client's own output and rejects malformed text", async () => {
    const registry = new Registry();
    new Counter({ name: "x_total", help: "h", labelNames: ["a"], registers: [registry] }).labels('q"\\\n').inc(2);
    const families = parseExposition(await registry.metrics());
    expect(valueOf(families, "x_total", { a: 'q"\\\n' })).toBe(2);
    const bad = [
      "# TYPE a counter\na 1", // no final newline
      "# TYPE a counter\na{b=\"1\",} 1\n", // trailing comma
      "# TYPE a counter\na{b=1} 1\n", // unquoted label
      "# TYPE a counter\na one\n", // bad value
      "# TYPE a counter\nb 1\n", // sample outside its family
      "# TYPE a counter\na 1\na 2\n", // duplicate series
      "# TYPE a counter\na 1\n# TYPE a counter\n", // TYPE after samples
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", // not cumulative
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", // no +Inf
      "# TYPE a sometype\n",
      "# TYPE a counter\n  \na 1\n", // whitespace-only line
    ];
    for (const text of bad) expect(() => parseExposition(text), JSON.stringify(text)).toThrow();
  });
});

describe("GET /metrics", () => {
  it("lists every gateway metric with its type, the default collectors included", async () => {
    const gw = await gateway();
    const families = await scrape(gw);
    for (const [name, type] of Object.entries(GATEWAY_METRICS)) expect([name, families.get(name)?.type]).toEqual([name, type]);
    for (const name of [
      "nodejs_eventloop_lag_seconds",
      "nodejs_eventloop_lag_p50_seconds",
      "nodejs_eventloop_lag_p90_seconds",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_gc_duration_seconds",
      "nodejs_heap_size_used_bytes",
      "process_cpu_seconds_total",
    ]) {
      expect(families.has(name), name).toBe(true);
    }
    expect(families.get("coven_build_info")?.samples).toEqual([{ name: "coven_build_info", labels: { version: "0.1.0" }, value: 1 }]);
    expect(valueOf(families, "coven_db_size_bytes")).toBeGreaterThan(0);
    expect(valueOf(families, "coven_maintenance")).toBe(0);
  });

  it("answers HEAD, refuses other methods with an empty 405, and is gone when disabled", async () => {
    const gw = await gateway();
    const head = await fetch(`${gw.httpUrl}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
    const post = await fetch(`${gw.httpUrl}/metrics`, { method: "POST" });
    expect([post.status, await post.text()]).toEqual([405, ""]);
    const off = await gateway({ mutate: (c) => ({ ...c, metrics: { ...c.metrics, enabled: false } }) });
    const res = await fetch(`${off.httpUrl}/metrics`);
    expect([res.status, await res.text()]).toEqual([404, "404 page not found\n"]);
  });

  it("serves another path when metrics.path says so", async () => {
    const gw = await gateway({ mutate: (c) => ({ ...c, metrics: { ...c.metrics, path: "/prom" } }) });
    expect((await fetch(`${gw.httpUrl}/prom`)).status).toBe(200);
    expect((await fetch(`${gw.httpUrl}/metrics`)).status).toBe(404);
  });

  it("needs the bearer metrics.token when set, loopback included, and never takes another credential", async () => {
    const token = "0123456789abcdef-scrape";
    const gw = await gateway({ mutate: (c) => ({ ...c, metrics: { ...c.metrics, token } }) });
    const attempts: Array<Record<string, string>> = [{}, { authorization: "Bearer wrong-token-000000" }, { authorization: token }];
    for (const headers of attempts) {
      const res = await fetch(`${gw.httpUrl}/metrics`, { headers });
      expect([res.status, await res.text()]).toEqual([401, '{"error":"invalid metrics token"}\n']);
    }
    await scrape(gw, { authorization: `Bearer ${token}` });
  });

  it("without a token serves loopback only, taking the address from X-Forwarded-For under trust_proxy", async () => {
    const gw = await gateway({ mutate: (c) => ({ ...c, server: { ...c.server, trustProxy: true } }) });
    await scrape(gw);
    await scrape(gw, { "x-forwarded-for": "127.0.0.9" });
    const res = await fetch(`${gw.httpUrl}/metrics`, { headers: { "x-forwarded-for": "203.0.113.7" } });
    expect([res.status, await res.text()]).toEqual([403, '{"error":"metrics are restricted to loopback; set metrics.token"}\n']);
    const direct = await gateway();
    // Without trust_proxy the header is ignored: the socket address is loopback.
    await scrape(direct, { "x-forwarded-for": "203.0.113.7" });
  });

  it("moves each counter by exactly the turns it saw, and the series count does not grow with agents and threads", async () => {
    const gw = await gateway();
    await agent(gw, "metrics-a");
    const before = await scrape(gw);
    const turn = async (agentId: string, content: string) => {
      const res = await postSse(`${gw.httpUrl}/api/send`, { agent_id: agentId, sender: "alice", content });
      expect(res.status).toBe(200);
    };
    await turn("metrics-a", "hello");
    await turn("metrics-a", "fail");
    const client = clientServiceClient(gw.grpcAddr);
    cleanups.push(() => client.close());
    const sent = await callUnary(client, "SendMessage", { conversation_key: "metrics-a", content: "via grpc", idempotency_key: "k-1" });
    expect(sent.ok).toBe(true);
    await expect.poll(async () => valueOf(await scrape(gw), "coven_turns_total", { ingress: "grpc", outcome: "done" })).toBe(1);
    const after = await scrape(gw);
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(valueOf(before, "coven_agent_streams_total", { outcome: "registered" })).toBe(1);
    expect(valueOf(before, "coven_agents_connected", { state: "idle" })).toBe(1);
    expect(delta("coven_turns_started_total", { ingress: "http" })).toBe(2);
    expect(delta("coven_turns_started_total", { ingress: "grpc" })).toBe(1);
    expect(delta("coven_turns_total", { ingress: "http", outcome: "done" })).toBe(1);
    expect(delta("coven_turns_total", { ingress: "http", outcome: "error" })).toBe(1);
    expect(delta("coven_turn_duration_seconds_count", { ingress: "http" })).toBe(2);
    expect(delta("coven_turn_first_event_seconds_count", { ingress: "grpc" })).toBe(1);
    expect(valueOf(after, "coven_turns_in_flight")).toBe(0);
    expect(delta("coven_text_chunks_total")).toBe(4);
    expect(delta("coven_tokens_total", { kind: "input" })).toBe(20);
    expect(delta("coven_tokens_total", { kind: "output" })).toBe(10);
    expect(delta("coven_tokens_total", { kind: "thinking" })).toBe(2);
    // Per turn: the user message and one agent row (final text or error).
    expect(delta("coven_ledger_appends_total")).toBe(6);

    const seriesOf = (families: Map<string, Family>) =>
      [...families.values()].filter((f) => f.name.startsWith("coven_")).reduce((n, f) => n + f.samples.length, 0);
    const settled = seriesOf(after);
    for (const id of ["metrics-b", "metrics-c"]) {
      await agent(gw, id);
      await turn(id, "hello");
      await turn(id, "fail");
    }
    await expect.poll(async () => valueOf(await scrape(gw), "coven_turns_total", { ingress: "http", outcome: "error" })).toBe(3);
    expect(seriesOf(await scrape(gw))).toBe(settled);
  });

  it("counts an agent stream refused at authentication and the close reason of a registered one", async () => {
    const gw = await gateway();
    const stream = await agent(gw, "closer");
    stream.call.end();
    await stream.status;
    await expect.poll(async () => valueOf(await scrape(gw), "coven_agent_stream_closes_total", { reason: "agent_end" })).toBe(1);
    expect(valueOf(await scrape(gw), "coven_agents_connected", { state: "idle" })).toBe(0);
    expect(grpc.status.OK).toBe(0);
  });
});
