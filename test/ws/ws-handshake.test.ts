// ABOUTME: GET /ws over a real listener with the `ws` package: upgrade refusals, the hello handshake, close codes
// ABOUTME: for bad frames, params messages and the published schema (ws.md §1-§3, §13 "Upgrade/Handshake/Frames").
import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import * as ajv2020 from "ajv/dist/2020.js";
import { createCleanups, startGateway } from "../e2e/support/conversation-e2e.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { WsClient, WsSchema, seqs } from "./support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function open(httpUrl: string, options: ConstructorParameters<typeof WsClient>[2] = {}): Promise<WsClient> {
  const schema = await WsSchema.fetch(httpUrl);
  const client = await WsClient.open(httpUrl, schema, options);
  cleanups.add(() => client.close());
  return client;
}

function rawGet(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Opens an upgrade and resolves with the refusal's status and body (or 101). */
function upgradeStatus(url: string, options: { headers?: Record<string, string>; origin?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers: options.headers, origin: options.origin });
    socket.on("open", () => {
      socket.terminate();
      resolve({ status: 101, body: "" });
    });
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    socket.on("error", () => undefined);
  });
}

describe("GET /ws upgrade and schema", () => {
  it("answers 426 without Upgrade, 405 for POST, and serves a schema that compiles with Ajv 2020", async () => {
    const gw = await startGateway(cleanups);
    const plain = await rawGet(`${gw.httpUrl}/ws`);
    expect(plain.status).toBe(426);
    expect(plain.headers.upgrade).toBe("websocket");
    expect(JSON.parse(plain.body)).toEqual({ error: "websocket upgrade required" });
    const post = await rawGet(`${gw.httpUrl}/ws`, {}, "POST");
    expect(post.status).toBe(405);
    expect(post.body).toBe("");

    const schema = await rawGet(`${gw.httpUrl}/ws/schema.json`);
    expect(schema.status).toBe(200);
    expect(schema.headers["content-type"]).toMatch(/^application\/json/);
    expect(schema.headers["cache-control"]).toBe("no-cache");
    expect(schema.headers.etag).toBeTruthy();
    const doc = JSON.parse(schema.body) as { $id: string; $defs: Record<string, unknown> };
    expect(doc.$id).toBe("urn:coven-gateway:ws:1");
    for (const def of ["Hello", "HelloOk", "HelloError", "Request", "Response", "Event", "SendParams", "SendResult", "PingParams", "RunPayload", "ShutdownPayload"]) {
      expect(Object.keys(doc.$defs)).toContain(def);
    }
    const ajv = new ajv2020.Ajv2020({ strict: false });
    expect(() => ajv.addSchema(doc).compile({ $ref: `${doc.$id}#/$defs/Event` })).not.toThrow();
    expect((await rawGet(`${gw.httpUrl}/ws/schema.json`)).body).toBe(schema.body);
  });

  it("refuses a foreign Origin with auth off (403), accepts the public origin, and caps total sockets (503)", async () => {
    const gw = await startGateway(cleanups, { limits: { wsMaxConnections: 1 } });
    const url = `${gw.httpUrl.replace("http", "ws")}/ws`;
    expect(await upgradeStatus(url, { origin: "http://evil.example" })).toEqual({ status: 403, body: '{"error":"origin not allowed"}\n' });
    const publicOrigin = `http://localhost:${gw.httpPort}`;
    const first = await open(gw.httpUrl, { origin: publicOrigin });
    expect((await first.hello()).type).toBe("hello-ok");
    expect(await upgradeStatus(url)).toEqual({ status: 503, body: '{"error":"too many connections"}\n' });
  });

  it("refuses the admin session cookie from a foreign Origin; a token client with a foreign Origin passes", async () => {
    const gw = await startAuthGateway();
    cleanups.add(() => gw.stop());
    const url = `${gw.httpUrl.replace("http", "ws")}/ws`;
    const cookie = await upgradeStatus(url, { origin: "http://evil.example", headers: { cookie: "coven_admin_session=abc" } });
    expect(cookie).toEqual({ status: 403, body: '{"error":"origin not allowed"}\n' });
    const id = await seedPrincipal(gw.gateway.store.db, { roles: ["member"] });
    const token = await tokenFor(id);
    const client = await open(gw.httpUrl, { origin: "http://evil.example", headers: { authorization: `Bearer ${token}` } });
    const ok = await client.hello();
    expect(ok.type).toBe("hello-ok");
    expect(ok.identity.kind).toBe("principal");
  });
});

describe("hello", () => {
  it("hello-ok carries exactly the keys of §2.4 (auth off: anonymous) and selects coven.v1 when offered", async () => {
    const gw = await startGateway(cleanups);
    const client = await open(gw.httpUrl, { protocols: ["coven.v1"] });
    expect(client.socket.protocol).toBe("coven.v1");
    const ok = await client.hello();
    expect(Object.keys(ok).sort()).toEqual(["features", "identity", "policy", "protocol", "server", "snapshot", "type"]);
    expect(ok.protocol).toBe(1);
    expect(Object.keys(ok.server).sort()).toEqual(["conn_id", "server_id", "version"]);
    expect(ok.server.server_id).toMatch(/^coven-gateway-/);
    expect(ok.identity).toEqual({ kind: "anonymous", id: "anonymous", display_name: "anonymous", roles: ["admin"] });
    expect(ok.features.methods).toEqual(["agents.list", "cancel", "events.get", "ping", "questions.answer", "send", "subscribe", "tools.approve", "unsubscribe"]);
    expect(ok.features.events).toEqual(["activity", "approval", "ledger", "maintenance", "presence", "question", "run", "shutdown", "synced", "tick", "unsubscribed"]);
    expect(ok.snapshot).toEqual({ agents: [], pending_approvals: [], pending_questions: [], maintenance: { enabled: false, message: "", since: null } });
    expect(ok.policy).toEqual({ max_payload: 1048576, max_buffered_bytes: 1048576, tick_interval_ms: 15000, max_subscriptions: 64 });
    expect((await client.call("ping")).ok).toBe(true);
    expect(client.validationErrors).toEqual([]);
  });

  it("protocol mismatch answers expected_protocol 1 then closes 1002; a bad hello closes 1008 invalid hello", async () => {
    const gw = await startGateway(cleanups);
    const a = await open(gw.httpUrl);
    a.sendFrame({ type: "hello", min_protocol: 2, max_protocol: 3, client: { name: "x", version: "1" } }, "Hello");
    expect(await a.closedPromise).toEqual({ code: 1002, reason: "protocol mismatch" });
    expect(a.frames).toEqual([{ type: "hello-error", reason: "protocol mismatch", expected_protocol: 1 }]);

    const b = await open(gw.httpUrl);
    b.sendFrame({ type: "hello", min_protocol: 1, max_protocol: 1, client: { version: "1" } });
    expect(await b.closedPromise).toEqual({ code: 1008, reason: "invalid hello" });
    expect(b.frames[0]).toMatchObject({ type: "hello-error", reason: "invalid hello", message: "/client must have required property 'name'" });
    expect(b.validationErrors).toEqual([]);

    const c = await open(gw.httpUrl);
    c.sendFrame({ type: "req", id: "1", method: "ping" });
    expect(await c.closedPromise).toEqual({ code: 1008, reason: "hello required" });
  });

  it("hello timeout closes 1008 without hello-error", async () => {
    const gw = await startGateway(cleanups, { limits: { wsHelloTimeoutMs: 200 } });
    const client = await open(gw.httpUrl);
    expect(await client.closedPromise).toEqual({ code: 1008, reason: "hello timeout" });
    expect(client.frames).toEqual([]);
  });

  it("auth on: header token, hello.auth.token, each unauthenticated message, and the per-identity cap", async () => {
    const gw = await startAuthGateway({ limits: { wsMaxConnectionsPerPrincipal: 2 } });
    cleanups.add(() => gw.stop());
    const id = await seedPrincipal(gw.gateway.store.db, { roles: ["member"], displayName: "Ada" });
    const token = await tokenFor(id);
    const viaHeader = await open(gw.httpUrl, { headers: { authorization: `Bearer ${token}` } });
    expect((await viaHeader.hello()).identity).toEqual({ kind: "principal", id, display_name: "Ada", roles: ["member"] });
    const viaHello = await open(gw.httpUrl);
    expect((await viaHello.hello({ auth: { token } })).identity.id).toBe(id);
    const third = await open(gw.httpUrl);
    expect(await third.hello({ auth: { token } })).toEqual({ type: "hello-error", reason: "too many connections" });
    expect(await third.closedPromise).toEqual({ code: 1008, reason: "too many connections" });

    const cases: Array<[Record<string, string> | undefined, Record<string, unknown>, string]> = [
      [undefined, {}, "authentication required"],
      [{ authorization: "Token x" }, {}, "invalid authorization header format"],
      [undefined, { auth: { token: "" } }, "empty token"],
      [undefined, { auth: { token: "not-a-jwt" } }, "invalid token"],
    ];
    for (const [headers, extra, message] of cases) {
      const client = await open(gw.httpUrl, { headers });
      expect(await client.hello(extra)).toEqual({ type: "hello-error", reason: "unauthenticated", message });
      expect(await client.closedPromise).toEqual({ code: 1008, reason: "unauthenticated" });
    }
    expect(gw.gateway.identity.lockout.stats().trackedAddresses).toBeGreaterThan(0);
  });
});

describe("frames after the handshake", () => {
  it("binary 1003, `{` 1007 invalid JSON, oversize 1009, non-req 1008 invalid frame", async () => {
    const gw = await startGateway(cleanups, { limits: { wsMaxPayloadBytes: 1024 } });
    const bin = await open(gw.httpUrl);
    await bin.hello();
    bin.socket.send(Buffer.from([1, 2, 3]));
    expect(await bin.closedPromise).toEqual({ code: 1003, reason: "binary frames are not supported" });
    const bad = await open(gw.httpUrl);
    await bad.hello();
    bad.socket.send("{");
    expect(await bad.closedPromise).toEqual({ code: 1007, reason: "invalid JSON" });
    const big = await open(gw.httpUrl);
    await big.hello();
    big.socket.send(JSON.stringify({ type: "req", id: "1", method: "ping", params: { pad: "x".repeat(2000) } }));
    expect((await big.closedPromise).code).toBe(1009);
    const weird = await open(gw.httpUrl);
    await weird.hello();
    weird.sendFrame({ type: "nope" });
    expect(await weird.closedPromise).toEqual({ code: 1008, reason: "invalid frame" });
  });

  it("method and params messages of §3 in field order, duplicate request ids, and gap-free seq", async () => {
    const gw = await startGateway(cleanups);
    const c = await open(gw.httpUrl);
    await c.hello();
    const err = async (method: unknown, params: unknown) => (await c.call(method as string, params, { raw: true })).error;
    expect(await err("x", {})).toEqual({ code: "INVALID_ARGUMENT", message: "unknown method x" });
    expect(await err(undefined, {})).toEqual({ code: "INVALID_ARGUMENT", message: "method is required" });
    expect(await err("ping", [1])).toEqual({ code: "INVALID_ARGUMENT", message: "params must be of type object" });
    expect(await err("send", {})).toEqual({ code: "INVALID_ARGUMENT", message: "content is required" });
    expect(await err("send", { content: "", idempotency_key: "k" })).toEqual({ code: "INVALID_ARGUMENT", message: "content is required" });
    expect(await err("send", { content: 5, idempotency_key: "k" })).toEqual({ code: "INVALID_ARGUMENT", message: "content must be of type string" });
    expect(await err("send", { content: "hi", idempotency_key: "k".repeat(101) })).toEqual({ code: "INVALID_ARGUMENT", message: "idempotency_key too long" });
    expect(await err("send", { content: "hi", idempotency_key: "k", agent_id: 3 })).toEqual({ code: "INVALID_ARGUMENT", message: "agent_id must be of type string" });
    expect(await err("send", { content: "hi", idempotency_key: "k" })).toEqual({ code: "INVALID_ARGUMENT", message: "must specify agent_id or frontend+channel_id" });
    expect(await err("send", { content: "hi", idempotency_key: "k", agent_id: "gone" })).toEqual({ code: "UNAVAILABLE", message: "agent unavailable" });
    expect(await err("tools.approve", { agent_id: "a", tool_id: "t", approved: "yes" })).toEqual({ code: "INVALID_ARGUMENT", message: "approved must be of type boolean" });
    expect(await err("tools.approve", { agent_id: "a", tool_id: "t" })).toEqual({ code: "NOT_FOUND", message: "agent not found" });
    expect(await err("questions.answer", { agent_id: "a", question_id: "q", selected: ["x", 2] })).toEqual({ code: "INVALID_ARGUMENT", message: "selected[1] must be of type string" });
    expect(await err("questions.answer", { agent_id: "a", question_id: "q" })).toEqual({ code: "INVALID_ARGUMENT", message: "at least one selection or custom_text is required" });
    expect(await err("questions.answer", { agent_id: "a", question_id: "q", custom_text: "hi" })).toEqual({ code: "NOT_FOUND", message: "question not found or already answered" });
    expect(await err("events.get", { conversation_key: "a", limit: 0 })).toEqual({ code: "INVALID_ARGUMENT", message: "limit must be a positive integer" });
    expect(await err("events.get", { conversation_key: "a", since: "yesterday" })).toEqual({ code: "INVALID_ARGUMENT", message: "invalid since timestamp" });
    expect(await err("cancel", { request_id: "nope" })).toEqual({ code: "NOT_FOUND", message: "request not found" });
    expect(await err("subscribe", { topic: "agent:" })).toEqual({ code: "INVALID_ARGUMENT", message: "unknown topic: agent:" });
    expect(await err("subscribe", { topic: "presence", since_event_id: "x" })).toEqual({ code: "INVALID_ARGUMENT", message: "since_event_id is only valid for agent topics" });
    expect(await err("unsubscribe", { topic: "presence" })).toEqual({ code: "NOT_FOUND", message: "not subscribed: presence" });
    expect((await c.call("subscribe", { topic: "presence" })).ok).toBe(true);
    expect(await err("subscribe", { topic: "presence" })).toEqual({ code: "ALREADY_EXISTS", message: "already subscribed: presence" });

    // Two requests with one id while the first is still in progress (subscribe to an agent topic replays first).
    c.request("events.get", { conversation_key: "a" }, { id: "same" });
    c.request("events.get", { conversation_key: "a" }, { id: "same" });
    const answers = await c.waitCount((f) => f.type === "res" && f.id === "same", 2);
    expect(answers.map((a) => a.ok).sort()).toEqual([false, true]);
    expect(answers.find((a) => !a.ok)?.error).toEqual({ code: "INVALID_ARGUMENT", message: "duplicate request id" });
    expect(seqs(c)).toEqual(seqs(c).map((_s, i) => i + 1));
    expect(c.validationErrors).toEqual([]);
  });
});
