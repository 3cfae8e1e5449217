// ABOUTME: WS limits over a real listener with the `ws` package (ws.md §2.1, §2.3, §6.1, §8, §13 "Limits"): the upgrade's
// ABOUTME: per-address 429 with Retry-After, the 33rd connection of one principal, too many subscriptions, invalid UTF-8.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createCleanups, startGateway } from "../e2e/support/conversation-e2e.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { WsClient, WsSchema } from "./support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function open(httpUrl: string, schema: WsSchema, options: ConstructorParameters<typeof WsClient>[2] = {}): Promise<WsClient> {
  const client = await WsClient.open(httpUrl, schema, options);
  cleanups.add(() => client.close());
  return client;
}

/** Opens an upgrade and resolves with the refusal's status, Retry-After and body (or 101). */
function upgrade(url: string): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.on("open", () => {
      socket.terminate();
      resolve({ status: 101, body: "" });
    });
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      // Resolves once the server has closed the refused connection (a socket left open would hold its close).
      const raw = res.socket;
      const done = () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body });
      res.on("end", () => (raw.destroyed ? done() : raw.once("close", done)));
    });
    socket.on("error", () => undefined);
  });
}

describe("upgrade rate limit", () => {
  it("refuses the upgrade past rate_limits.http_per_address with 429, the ops.md body and Retry-After, and closes that socket", async () => {
    const gw = await startGateway(cleanups, {
      mutate: (c) => ({ ...c, rateLimits: { ...c.rateLimits, httpPerAddress: { rate: 0.1, burst: 2 } } }),
    });
    const url = `${gw.httpUrl.replace("http", "ws")}/ws`;
    expect((await upgrade(url)).status).toBe(101);
    expect((await upgrade(url)).status).toBe(101);
    const refused = await upgrade(url);
    expect(refused).toEqual({ status: 429, retryAfter: "10", body: '{"error":"rate limit exceeded"}\n' });
    // The schema route is not a counted path: it is still served while /ws is refused.
    expect((await fetch(`${gw.httpUrl}/ws/schema.json`)).status).toBe(200);
    await gw.stop();
  });
});

describe("per-identity connection cap", () => {
  it("accepts 32 connections of one principal at the default cap and refuses the 33rd with `too many connections`", async () => {
    const gw = await startAuthGateway();
    cleanups.add(() => gw.stop());
    const schema = await WsSchema.fetch(gw.httpUrl);
    const id = await seedPrincipal(gw.gateway.store.db, { roles: ["member"] });
    const token = await tokenFor(id);
    const held: WsClient[] = [];
    for (let i = 0; i < 32; i += 1) {
      const client = await open(gw.httpUrl, schema);
      expect((await client.hello({ auth: { token } })).type).toBe("hello-ok");
      held.push(client);
    }
    const refused = await open(gw.httpUrl, schema, { headers: { authorization: `Bearer ${token}` } });
    expect(await refused.hello()).toEqual({ type: "hello-error", reason: "too many connections" });
    expect(await refused.closedPromise).toEqual({ code: 1008, reason: "too many connections" });
    expect(refused.validationErrors).toEqual([]);

    // Another identity is not affected; closing one connection frees a place for the first.
    const otherId = await seedPrincipal(gw.gateway.store.db, { roles: ["member"] });
    const other = await open(gw.httpUrl, schema);
    expect((await other.hello({ auth: { token: await tokenFor(otherId) } })).type).toBe("hello-ok");
    await held[0]!.close();
    const again = await open(gw.httpUrl, schema);
    expect((await again.hello({ auth: { token } })).type).toBe("hello-ok");
  }, 60_000);
});

describe("subscriptions and frames", () => {
  it("refuses a subscription past limits.ws_max_subscriptions with FAILED_PRECONDITION `too many subscriptions`", async () => {
    const gw = await startGateway(cleanups, { limits: { wsMaxSubscriptions: 2 } });
    const c = await open(gw.httpUrl, await WsSchema.fetch(gw.httpUrl));
    expect((await c.hello()).policy.max_subscriptions).toBe(2);
    expect((await c.call("subscribe", { topic: "presence" })).ok).toBe(true);
    expect((await c.call("subscribe", { topic: "agent:one" })).ok).toBe(true);
    const refused = await c.call("subscribe", { topic: "questions" });
    expect(refused.error).toEqual({ code: "FAILED_PRECONDITION", message: "too many subscriptions" });
    // Unsubscribing frees the place.
    await c.call("unsubscribe", { topic: "presence" });
    expect((await c.call("subscribe", { topic: "questions" })).ok).toBe(true);
    expect(c.validationErrors).toEqual([]);
  });

  it("closes 1007 (the library's, empty reason) on a text frame that is not valid UTF-8", async () => {
    const gw = await startGateway(cleanups);
    const c = await open(gw.httpUrl, await WsSchema.fetch(gw.httpUrl));
    await c.hello();
    c.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await c.closedPromise).toEqual({ code: 1007, reason: "" });
  });
});
