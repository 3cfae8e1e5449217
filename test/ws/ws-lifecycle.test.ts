// ABOUTME: WS connection lifecycle (ws.md §7, §9): revocation ends runs then closes 4403, JWT expiry closes 4401,
// ABOUTME: a client that does not answer pings is closed 1001, and ticks keep `seq` gap-free.
import { afterEach, describe, expect, it } from "vitest";
import { connectAgent, createCleanups, startGateway } from "../e2e/support/conversation-e2e.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { bearerMetadata } from "../support/proto-client.js";
import { Browser as CookieJar, setupAdmin, startWebGateway } from "../webadmin/support.js";
import { WsClient, WsSchema, seqs } from "./support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function open(httpUrl: string, options: ConstructorParameters<typeof WsClient>[2] = {}): Promise<WsClient> {
  const client = await WsClient.open(httpUrl, await WsSchema.fetch(httpUrl), options);
  cleanups.add(() => client.close());
  return client;
}

describe("revocation and expiry", () => {
  it("a revoked principal's run ends with error `principal has been revoked`, is canceled, then the socket closes 4403", async () => {
    const gw = await startAuthGateway();
    cleanups.add(() => gw.stop());
    const agentPrincipal = await seedPrincipal(gw.gateway.store.db, { type: "agent" });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "worker", {
      features: ["token_usage", "tool_states", "cancellation"],
      metadata: bearerMetadata(await tokenFor(agentPrincipal)),
    });
    const member = await seedPrincipal(gw.gateway.store.db, { roles: ["member"] });
    const c = await open(gw.httpUrl, { headers: { authorization: `Bearer ${await tokenFor(member)}` } });
    expect((await c.hello()).type).toBe("hello-ok");
    const res = await c.call("send", { content: "work", idempotency_key: "w", agent_id: "worker" });
    const turn = res.payload.request_id as string;
    await agent.message(1);
    await gw.gateway.identity.service.revokePrincipal("admin-actor", member);
    expect(await c.closedPromise).toEqual({ code: 4403, reason: "principal has been revoked" });
    const run = c.runEvents(turn);
    expect(run.at(-1)?.payload).toEqual({ request_id: turn, kind: "error", data: { error: "principal has been revoked" } });
    const cancel = await agent.stream.next("cancel_request");
    expect(cancel.cancel_request).toMatchObject({ request_id: turn, reason: "principal_revoked" });
    expect(c.validationErrors).toEqual([]);
  });

  it("closes 4401 `token expired` when the JWT's exp passes", async () => {
    const gw = await startAuthGateway();
    cleanups.add(() => gw.stop());
    const id = await seedPrincipal(gw.gateway.store.db, { roles: ["member"] });
    const c = await open(gw.httpUrl);
    expect((await c.hello({ auth: { token: await tokenFor(id, 2) } })).type).toBe("hello-ok");
    expect(await c.closedPromise).toEqual({ code: 4401, reason: "token expired" });
  });
});

describe("web admin sessions", () => {
  it("the session cookie from the public base URL's origin gives kind webadmin; logout closes 4401 `session ended`", async () => {
    const gw = await startWebGateway();
    cleanups.add(() => gw.stop());
    const jar = new CookieJar(gw.gateway.http);
    expect((await setupAdmin(jar)).statusCode).toBe(200);
    const c = await open(gw.httpUrl, { origin: "http://localhost:8080", headers: { cookie: jar.cookieHeader } });
    const ok = await c.hello();
    expect(ok.identity).toMatchObject({ kind: "webadmin", roles: ["admin"] });
    expect(ok.identity.id).toMatch(/^webadmin:/);
    await jar.form("/logout", {});
    expect(await c.closedPromise).toEqual({ code: 4401, reason: "session ended" });

    const dead = await open(gw.httpUrl, { origin: "http://localhost:8080", headers: { cookie: "coven_admin_session=" + "0".repeat(64) } });
    expect(await dead.hello()).toEqual({ type: "hello-error", reason: "unauthenticated", message: "session ended" });
  });
});

describe("liveness", () => {
  it("ticks with a ping each interval; a client with autoPong off is closed 1001 `pong timeout`", async () => {
    const gw = await startGateway(cleanups, { limits: { wsTickIntervalMs: 1_000, wsPongTimeoutMs: 1_500 } });
    const live = await open(gw.httpUrl);
    await live.hello();
    const silent = await open(gw.httpUrl, { autoPong: false });
    expect((await silent.hello()).policy.tick_interval_ms).toBe(1000);
    expect(await silent.closedPromise).toEqual({ code: 1001, reason: "pong timeout" });
    expect(silent.events().filter((f) => f.event === "tick").length).toBeGreaterThanOrEqual(1);
    expect(live.closeInfo).toBeUndefined();
    const ticks = live.events().filter((f) => f.event === "tick");
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(seqs(live)).toEqual(seqs(live).map((_s, i) => i + 1));
    expect(live.validationErrors).toEqual([]);
  });
});
