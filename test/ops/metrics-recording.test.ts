// ABOUTME: Each ops.md §1.3 family that an edge records, moved where its event happens and read back through a real
// ABOUTME: scrape parsed strictly: subscribers per kind, ledger commits, ws/webadmin auth failures, refused registrations.
import { request, type IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { connectAgent, createCleanups, openClient, SseSession, subscribe } from "../e2e/support/conversation-e2e.js";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { parseExposition, valueOf, type Family } from "../support/prom-text.js";
import { covenControlClient, ThirdPartyAgentStream } from "../support/proto-client.js";
import { Browser, setupAdmin, signedIn, SseReader } from "../webadmin/support.js";
import { WsClient, WsSchema } from "../ws/support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function gateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  cleanups.add(() => gw.stop());
  return gw;
}

async function scrape(gw: TestGateway): Promise<Map<string, Family>> {
  const res = await fetch(`${gw.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

const metric = async (gw: TestGateway, name: string, labels: Record<string, string> = {}) => valueOf(await scrape(gw), name, labels);

async function ws(gw: TestGateway, headers?: Record<string, string>): Promise<WsClient> {
  const client = await WsClient.open(gw.httpUrl, await WsSchema.fetch(gw.httpUrl), headers === undefined ? {} : { headers });
  cleanups.add(() => client.close());
  return client;
}

describe("coven_subscribers", () => {
  it("counts live StreamEvents, web chat, WS topic and SSE send subscribers by kind, back to 0 when they end", async () => {
    const gw = await gateway({ mutate: (c) => ({ ...c, webadmin: { baseUrl: "http://localhost:8080" } }) });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "subs");
    const kinds = async () => {
      const families = await scrape(gw);
      return Object.fromEntries(["sse", "stream_events", "webchat", "ws"].map((kind) => [kind, valueOf(families, "coven_subscribers", { kind })]));
    };
    expect(await kinds()).toEqual({ sse: 0, stream_events: 0, webchat: 0, ws: 0 });

    const reader = await subscribe(cleanups, openClient(cleanups, gw.grpcAddr), { conversation_key: "subs" });
    const browser = await signedIn(gw);
    const chat = new SseReader(gw.httpPort, "/chat/subs/stream", browser.cookieHeader);
    cleanups.add(() => chat.close());
    await chat.next("history_end");
    const client = await ws(gw);
    await client.hello();
    expect((await client.call("subscribe", { topic: "presence" })).ok).toBe(true);
    expect((await client.call("subscribe", { topic: "approvals" })).ok).toBe(true);
    const send = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "subs", sender: "alice", content: "hold" });
    await send.next("started");
    expect(await kinds()).toEqual({ sse: 1, stream_events: 1, webchat: 1, ws: 2 });

    expect((await client.call("unsubscribe", { topic: "approvals" })).ok).toBe(true);
    const turn = (await agent.message(1)).request_id as string;
    agent.respond(turn, { done: { full_response: "ok" } });
    await send.ended();
    reader.call.cancel();
    chat.close();
    await expect.poll(kinds).toEqual({ sse: 0, stream_events: 0, webchat: 0, ws: 1 });
    client.socket.close();
    await client.closedPromise;
    await expect.poll(kinds).toEqual({ sse: 0, stream_events: 0, webchat: 0, ws: 0 });
  });
});

describe("coven_write_waits_total and coven_write_stalls_total for SSE", () => {
  it("counts the waits of a send stream whose client stopped reading, then one stall", async () => {
    const gw = await gateway({ limits: { sseWriteStallTimeoutMs: 1_000 } });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "stall", { features: ["token_usage", "tool_states", "cancellation"] });
    const body = JSON.stringify({ agent_id: "stall", sender: "alice", content: "flood" });
    const req = request(`${gw.httpUrl}/api/send`, { method: "POST", headers: { "content-type": "application/json" } });
    cleanups.add(() => void req.destroy());
    const response = new Promise<IncomingMessage>((resolve) => req.on("response", resolve));
    req.on("error", () => {});
    req.end(body);
    const res = await response;
    res.pause();
    const turn = (await agent.message(1)).request_id as string;
    const chunk = "z".repeat(4096);
    for (let i = 0; i < 4_000; i += 1) agent.respond(turn, { text: chunk });
    const cancel = await agent.stream.next("cancel_request", () => true, 30_000);
    expect(cancel.cancel_request).toMatchObject({ request_id: turn, reason: "client_disconnected" });
    const families = await scrape(gw);
    expect(valueOf(families, "coven_write_stalls_total", { kind: "sse" })).toBe(1);
    expect(valueOf(families, "coven_write_waits_total", { kind: "sse" })).toBeGreaterThanOrEqual(1);
    expect(valueOf(families, "coven_subscribers", { kind: "sse" })).toBe(0);
  }, 60_000);
});

describe("coven_ledger_commit_seconds", () => {
  it("observes one commit per ledger write of a turn: the send transaction and each agent row", async () => {
    const gw = await gateway();
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "ledger");
    const before = await scrape(gw);
    const send = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "ledger", sender: "alice", content: "hi" });
    const turn = (await agent.message(1)).request_id as string;
    agent.respond(turn, { tool_use: { id: "t1", name: "Read", input_json: "{}" } });
    agent.respond(turn, { done: { full_response: "answer" } });
    await send.ended();
    await expect.poll(() => metric(gw, "coven_ledger_appends_total")).toBe(valueOf(before, "coven_ledger_appends_total") + 3);
    const after = await scrape(gw);
    // The user message (its send transaction), the tool call row and the final answer.
    expect(valueOf(after, "coven_ledger_commit_seconds_count") - valueOf(before, "coven_ledger_commit_seconds_count")).toBe(3);
    expect(valueOf(after, "coven_ledger_commit_seconds_sum")).toBeGreaterThan(0);
    expect(valueOf(after, "coven_ledger_commit_seconds_bucket", { le: "+Inf" })).toBe(valueOf(after, "coven_ledger_commit_seconds_count"));
  });
});

describe("coven_auth_failures_total on the ws and webadmin edges", () => {
  it("counts a WS hello without a credential as missing and a bad or revoked token by its reason", async () => {
    const gw = await startAuthGateway();
    cleanups.add(() => gw.stop());
    const failures = async () => {
      const families = await scrape(gw);
      return Object.fromEntries(["missing", "invalid", "revoked"].map((reason) => [reason, valueOf(families, "coven_auth_failures_total", { edge: "ws", reason })]));
    };
    const bare = await ws(gw);
    expect((await bare.hello()).reason).toBe("unauthenticated");
    const bad = await ws(gw);
    expect((await bad.hello({ auth: { token: "not-a-jwt" } })).reason).toBe("unauthenticated");
    const revokedId = await seedPrincipal(gw.gateway.store.db, { status: "revoked" });
    const revoked = await ws(gw, { authorization: `Bearer ${await tokenFor(revokedId)}` });
    expect((await revoked.hello()).reason).toBe("unauthenticated");
    const ok = await ws(gw, { authorization: `Bearer ${await tokenFor(await seedPrincipal(gw.gateway.store.db))}` });
    expect((await ok.hello()).type).toBe("hello-ok");
    expect(await failures()).toEqual({ missing: 1, invalid: 1, revoked: 1 });
  });

  it("counts a wrong web admin password as invalid, an unknown passkey as unknown_key, and not a good sign-in", async () => {
    const gw = await gateway({ mutate: (c) => ({ ...c, webadmin: { baseUrl: "http://localhost:8080" } }) });
    await setupAdmin(new Browser(gw.gateway.http));
    const webadmin = async (reason: string) => metric(gw, "coven_auth_failures_total", { edge: "webadmin", reason });
    const b = new Browser(gw.gateway.http);
    await b.get("/login");
    const wrong = await b.form("/login", { username: "alice", password: "not the password" });
    expect(wrong.body).toContain("Invalid username or password");
    const nobody = await b.form("/login", { username: "mallory", password: "whatever" });
    expect(nobody.body).toContain("Invalid username or password");
    const good = await b.form("/login", { username: "alice", password: "correct horse battery" });
    expect(good.statusCode).toBe(303);
    expect(await webadmin("invalid")).toBe(2);

    const anon = new Browser(gw.gateway.http);
    const begin = JSON.parse((await anon.json("POST", "/webauthn/login/begin", undefined, { csrf: null })).body) as { sessionToken: string };
    const unknown = await anon.json("POST", "/webauthn/login/finish", { sessionToken: begin.sessionToken, response: { id: "AAAA", response: {} } }, { csrf: null });
    expect(unknown.statusCode).toBe(401);
    expect(await webadmin("unknown_key")).toBe(1);
    expect(await webadmin("invalid")).toBe(2);
  });
});

describe("coven_agent_streams_total{outcome=rejected}", () => {
  it("counts streams refused at registration: a duplicate agent_id and a first message that is not RegisterAgent", async () => {
    const gw = await gateway();
    await connectAgent(cleanups, gw.grpcAddr, "dup");
    const control = covenControlClient(gw.grpcAddr);
    cleanups.add(() => control.close());
    const second = new ThirdPartyAgentStream(control as never);
    second.call.on("error", () => {});
    second.register("dup");
    expect((await second.status).details).toBe("agent dup already registered");
    const wrong = new ThirdPartyAgentStream(control as never);
    wrong.call.on("error", () => {});
    wrong.send({ heartbeat: {} });
    expect((await wrong.status).details).toBe("first message must be RegisterAgent");
    const families = await scrape(gw);
    expect(valueOf(families, "coven_agent_streams_total", { outcome: "registered" })).toBe(1);
    expect(valueOf(families, "coven_agent_streams_total", { outcome: "rejected" })).toBe(2);
  });
});
