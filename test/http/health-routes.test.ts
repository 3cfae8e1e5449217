// ABOUTME: Health endpoints: /health for any method, /health/ready by connected agents, and the SSE keepalive
// ABOUTME: stream over a real listener (headers, `data: ok`, heartbeats, cleanup on disconnect and on close).
import { afterEach, describe, expect, it } from "vitest";
import { SseRegistry } from "../../src/http/sse-channel.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";
import { openSse } from "./support/sse-client.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("/health", () => {
  it("answers 200 OK without a newline for any method and any body", async () => {
    h = await createHttpHarness();
    for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH"] as const) {
      const res = await h.app.inject({ method, url: "/health", payload: method === "GET" ? undefined : "{broken", headers: { "content-type": "garbage" } });
      expect(res.statusCode, method).toBe(200);
      expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expect(res.body).toBe("OK");
    }
  });
});

describe("/health/ready", () => {
  it("is 503 with no agents and reports the number of connected agents", async () => {
    h = await createHttpHarness();
    const none = await h.app.inject({ method: "GET", url: "/health/ready" });
    expect(none.statusCode).toBe(503);
    expect(none.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(none.body).toBe("no agents connected");
    await h.connectAgent({ agentId: "a1" });
    await h.connectAgent({ agentId: "a2" });
    const ready = await h.app.inject({ method: "POST", url: "/health/ready" });
    expect(ready.statusCode).toBe(200);
    expect(ready.body).toBe("ready (2 agents)");
  });
});

describe("GET /api/health/stream", () => {
  it("sends the SSE headers, data: ok at once, then heartbeats until the client leaves", async () => {
    const sseRegistry = new SseRegistry();
    h = await createHttpHarness({ limits: { sseHeartbeatIntervalMs: 20 }, deps: { sseRegistry } });
    const url = await h.listen();
    const sse = await openSse(url, "/api/health/stream", { method: "GET" });
    expect(sse.status).toBe(200);
    expect(sse.headers["content-type"]).toBe("text/event-stream");
    expect(sse.headers["cache-control"]).toBe("no-cache");
    expect(sse.headers.connection).toBe("keep-alive");
    expect(sse.headers["x-accel-buffering"]).toBe("no");
    expect(sse.headers["content-security-policy"]).toContain("default-src 'none'");
    await sse.waitFor((frames) => frames.filter((f) => f.comment === "heartbeat").length >= 2);
    expect(sse.text().startsWith("data: ok\n\n: heartbeat\n\n")).toBe(true);
    expect(sseRegistry.size).toBe(1);
    sse.destroy();
    await waitUntil(() => sseRegistry.size === 0);
  });

  it("is ended by closing the app", async () => {
    h = await createHttpHarness();
    const url = await h.listen();
    const sse = await openSse(url, "/api/health/stream", { method: "GET" });
    await sse.waitFor((frames) => frames.length >= 1);
    await h.app.close();
    expect(await sse.ended).toBe("data: ok\n\n");
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
