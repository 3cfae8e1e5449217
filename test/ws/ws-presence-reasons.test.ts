// ABOUTME: WS `presence` `disconnected` reasons `revoked` and `shutdown` (ws.md §6.3, ops.md §1.4) end to end: a
// ABOUTME: `ws` client subscribed to presence sees the agent leave when its principal is revoked or the gateway stops.
import { afterEach, describe, expect, it } from "vitest";
import { connectAgent, createCleanups } from "../e2e/support/conversation-e2e.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { bearerMetadata } from "../support/proto-client.js";
import { WsClient, WsSchema } from "./support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

async function presenceWatcher(httpUrl: string, token: string): Promise<WsClient> {
  const client = await WsClient.open(httpUrl, await WsSchema.fetch(httpUrl), { headers: { authorization: `Bearer ${token}` } });
  cleanups.add(() => client.close());
  expect((await client.hello()).type).toBe("hello-ok");
  await client.call("subscribe", { topic: "presence" });
  return client;
}

describe("presence disconnected reasons", () => {
  it("`revoked` when the agent's principal is revoked through the identity service", async () => {
    const gw = await startAuthGateway();
    cleanups.add(() => gw.stop());
    const watcher = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const c = await presenceWatcher(gw.httpUrl, await tokenFor(watcher));
    const agentPrincipal = await seedPrincipal(gw.gateway.store.db, { type: "agent" });
    await connectAgent(cleanups, gw.grpcAddr, "doomed", { metadata: bearerMetadata(await tokenFor(agentPrincipal)) });
    await c.waitFor((f) => f.event === "presence" && f.payload.kind === "connected");
    await gw.gateway.identity.service.revokePrincipal("admin-actor", agentPrincipal);
    const gone = await c.waitFor((f) => f.event === "presence" && f.payload.kind === "disconnected");
    expect(gone.payload).toEqual({ kind: "disconnected", agent: expect.objectContaining({ id: "doomed", state: "offline" }), reason: "revoked" });
    expect(c.validationErrors).toEqual([]);
  });

  it("`shutdown` when the gateway ends the agent's stream after the drain, seen by a connection with a run in flight", async () => {
    // ws.md §9: a connection without a run in flight closes 1012 at once, so only one still waiting on a run lives
    // until agent-stream.md §10 ends the run and then closes the agent streams (reason `shutdown`).
    const gw = await startAuthGateway();
    let stopped = false;
    cleanups.add(() => (stopped ? undefined : gw.stop()));
    const watcher = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const c = await presenceWatcher(gw.httpUrl, await tokenFor(watcher));
    const agentPrincipal = await seedPrincipal(gw.gateway.store.db, { type: "agent" });
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "leaver", { metadata: bearerMetadata(await tokenFor(agentPrincipal)) });
    await c.waitFor((f) => f.event === "presence" && f.payload.kind === "connected");
    const res = await c.call("send", { content: "stay", idempotency_key: "s", agent_id: "leaver" });
    await agent.message(1);
    stopped = true;
    const stopping = gw.stop();
    await c.closedPromise;
    await stopping;
    const turn = res.payload.request_id as string;
    const gone = c.frames.find((f) => f.event === "presence" && f.payload.kind === "disconnected");
    expect(gone?.payload).toEqual({ kind: "disconnected", agent: expect.objectContaining({ id: "leaver", state: "offline" }), reason: "shutdown" });
    const order = c.frames.map((f) => (f.event === "shutdown" ? "shutdown" : f === gone ? "disconnected" : f.event === "run" && f.payload.kind === "error" ? "run-error" : null)).filter((x) => x !== null);
    expect(order).toEqual(["shutdown", "disconnected", "run-error"]);
    expect(c.runEvents(turn).at(-1)?.payload).toEqual({ request_id: turn, kind: "error", data: { error: "gateway shutting down" } });
    expect(c.closeInfo).toEqual({ code: 1012, reason: "gateway shutting down" });
    expect(c.validationErrors).toEqual([]);
  }, 20_000);
});
