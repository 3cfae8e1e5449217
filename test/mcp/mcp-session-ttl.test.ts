// ABOUTME: The MCP session idle TTL (packs-mcp.md §6.4): sliding 1 h without requests, swept every minute.
// ABOUTME: A bare fastify app with the real registry and router; the sweep timer is faked and the clock injected.
import Fastify from "fastify";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../src/lib/logger.js";
import { registerMcpServer } from "../../src/mcp/mcp-server.js";
import { ToolRegistry } from "../../src/packs/tool-registry.js";
import { createToolRouter } from "../../src/packs/tool-router.js";

const HOUR = 60 * 60 * 1000;

afterEach(() => {
  vi.useRealTimers();
});

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

describe("MCP session idle TTL", () => {
  it("keeps a session used within the hour and ends one idle for an hour", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    let now = 1_000_000;
    const registry = new ToolRegistry({ log: silentLogger });
    const app = Fastify();
    const mcp = await registerMcpServer(app, {
      registry,
      router: createToolRouter({ registry, log: silentLogger }),
      log: silentLogger,
      isAuthEnabled: false,
      resolveMcpToken: () => undefined,
      now: () => now,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/mcp`;
      const post = (body: unknown, sessionId?: string) =>
        fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            ...(sessionId ? { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" } : {}),
          },
          body: JSON.stringify(body),
        });
      const init = await post(INITIALIZE);
      const sessionId = init.headers.get("mcp-session-id") as string;
      expect(mcp.sessionCount()).toBe(1);
      const list = { jsonrpc: "2.0", id: 2, method: "tools/list" };

      now += HOUR - 1_000;
      expect((await post(list, sessionId)).status).toBe(200);
      now += HOUR - 1_000;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(mcp.sessionCount()).toBe(1);
      expect((await post(list, sessionId)).status).toBe(200);

      now += HOUR;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(mcp.sessionCount()).toBe(0);
      expect((await post(list, sessionId)).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
