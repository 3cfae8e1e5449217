// ABOUTME: MCP sessions last only as long as their credential (packs-mcp.md §6.4): a JWT session ends at the token's
// ABOUTME: exp or when its principal is revoked (404, then 401 on re-initialize); a stopping gateway answers 503.
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/lib/logger.js";
import { registerMcpServer } from "../../src/mcp/mcp-server.js";
import { ToolRegistry } from "../../src/packs/tool-registry.js";
import { createToolRouter } from "../../src/packs/tool-router.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { createManualClock } from "../store/temp-database.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};
const LIST = { jsonrpc: "2.0", id: 2, method: "tools/list" };

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify(body),
  });

async function jwtSession(url: string, token: string): Promise<string> {
  const init = await post(url, INITIALIZE, { authorization: `Bearer ${token}` });
  expect(init.status).toBe(200);
  return init.headers.get("mcp-session-id") as string;
}

const later = (url: string, sessionId: string) => post(url, LIST, { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" });

describe("MCP JWT session lifetime", () => {
  it("ends a JWT session at the token's exp: 404, and re-initializing with it is 401", async () => {
    const start = new Date();
    const clock = createManualClock(start.toISOString());
    const gw = await startAuthGateway({ clock });
    cleanups.push(() => gw.stop());
    const admin = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const token = await tokenFor(admin, 60);
    const url = `${gw.httpUrl}/mcp`;
    const sessionId = await jwtSession(url, token);
    clock.set(new Date(start.getTime() + 30_000).toISOString());
    expect((await later(url, sessionId)).status).toBe(200);
    // The token was minted on the real clock some time after `start` (exp = mint + 60 s): go well past it.
    clock.set(new Date(start.getTime() + 180_000).toISOString());
    const ended = await later(url, sessionId);
    expect([ended.status, await ended.json()]).toEqual([404, { jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }]);
    const again = await post(url, INITIALIZE, { authorization: `Bearer ${token}` });
    expect([again.status, await again.json()]).toEqual([401, { jsonrpc: "2.0", error: { code: -32600, message: "invalid or expired token" }, id: null }]);
  });

  it("ends a JWT session when its principal is revoked", async () => {
    const gw = await startAuthGateway();
    cleanups.push(() => gw.stop());
    const admin = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const url = `${gw.httpUrl}/mcp`;
    const token = await tokenFor(admin);
    const sessionId = await jwtSession(url, token);
    expect((await later(url, sessionId)).status).toBe(200);
    await gw.gateway.identity.service.revokePrincipal("admin-actor", admin);
    expect((await later(url, sessionId)).status).toBe(404);
    const again = await post(url, INITIALIZE, { authorization: `Bearer ${token}` });
    expect([again.status, await again.json()]).toEqual([403, { jsonrpc: "2.0", error: { code: -32600, message: "principal has been revoked" }, id: null }]);
  });
});

describe("MCP during shutdown", () => {
  it("answers 503 to every request once the gateway is stopping, sessions included", async () => {
    let isStopping = false;
    const registry = new ToolRegistry({ log: silentLogger });
    const app = Fastify();
    cleanups.push(() => app.close());
    await registerMcpServer(app, {
      registry,
      router: createToolRouter({ registry, log: silentLogger }),
      log: silentLogger,
      isAuthEnabled: true,
      isShuttingDown: () => isStopping,
      resolveMcpToken: () => undefined,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/mcp`;
    expect((await post(url, INITIALIZE)).status).toBe(401);
    isStopping = true;
    for (const res of [await post(url, INITIALIZE), await later(url, "some-session"), await fetch(url)]) {
      expect([res.status, await res.json()]).toEqual([503, { jsonrpc: "2.0", error: { code: -32000, message: "gateway shutting down" }, id: null }]);
    }
  });
});
