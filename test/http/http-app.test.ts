// ABOUTME: The HTTP conventions of http-api.md §1 through app.inject: body parsing, 413, 405, 404, CSP, errors,
// ABOUTME: the shutdown gate and the single auth hook point.
import { afterEach, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { CONTENT_SECURITY_POLICY } from "../../src/http/http-reply.js";
import type { HttpAuthenticator, HttpPrincipal } from "../../src/http/http-auth.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";

const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(options?: Parameters<typeof createHttpHarness>[0]): Promise<HttpHarness> {
  h = await createHttpHarness(options);
  return h;
}

describe("request bodies", () => {
  it("parses JSON whatever the Content-Type, including none", async () => {
    const { app } = await harness();
    const body = JSON.stringify({ content: "hi", sender: "me" });
    for (const headers of [{}, { "content-type": "text/plain" }, { "content-type": "garbage" }, { "content-type": "application/x-www-form-urlencoded" }]) {
      const res = await app.inject({ method: "POST", url: "/api/send", payload: body, headers });
      expect(res.statusCode).toBe(400);
      expect(res.body).toBe('{"error":"must specify agent_id or frontend+channel_id"}\n');
    }
  });

  it("treats a null body as an empty object", async () => {
    const { app } = await harness();
    const res = await app.inject({ method: "POST", url: "/api/send", payload: "null" });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "content is required" });
  });

  it.each([
    ["an array", "[]"],
    ["a string", '"x"'],
    ["a number", "1"],
    ["broken JSON", "{"],
    ["trailing garbage", '{"content":"x"} x'],
    ["an empty body", ""],
    ["a wrongly typed known field", '{"content":1,"sender":"me"}'],
  ])("answers 400 invalid JSON body for %s", async (_name, payload) => {
    const { app } = await harness();
    const res = await app.inject({ method: "POST", url: "/api/send", payload, headers: { "content-type": "application/json" } });
    expect(res.statusCode).toBe(400);
    expect(res.body).toBe('{"error":"invalid JSON body"}\n');
  });

  it("ignores unknown fields and treats a JSON null field as missing", async () => {
    const { app } = await harness();
    const res = await app.inject({ method: "POST", url: "/api/send", payload: { content: "x", sender: null, extra: [1] } });
    expect(res.json()).toEqual({ error: "sender is required" });
  });

  it("answers 413 for a body over the limit, with or without a Content-Length", async () => {
    const { app } = await harness({ limits: { maxBodyBytes: 64 } });
    const big = JSON.stringify({ content: "x".repeat(100), sender: "me" });
    const res = await app.inject({ method: "POST", url: "/api/send", payload: big });
    expect(res.statusCode).toBe(413);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.body).toBe('{"error":"request body too large"}\n');
    const atLimit = await app.inject({ method: "POST", url: "/api/send", payload: JSON.stringify({ content: "x".repeat(40) }) });
    expect(atLimit.json()).toEqual({ error: "sender is required" });
  });

  it("runs the 405 check before reading the body", async () => {
    const { app } = await harness({ limits: { maxBodyBytes: 8 } });
    const res = await app.inject({ method: "PUT", url: "/api/send", payload: "{ not json at all, and too large" });
    expect(res.statusCode).toBe(405);
  });
});

describe("responses", () => {
  it("answers 405 with an empty body and no Allow header", async () => {
    const { app } = await harness();
    for (const [method, url] of [
      ["GET", "/api/send"],
      ["DELETE", "/api/send"],
      ["POST", "/api/agents"],
      ["HEAD", "/api/agents"],
      ["POST", "/api/agents/a1/history"],
      ["GET", "/api/agents/a1/send"],
      ["POST", "/api/health/stream"],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.body).toBe("");
      expect(res.headers.allow).toBeUndefined();
      expect(res.headers["content-security-policy"]).toBe(CSP);
    }
  });

  it("answers unknown paths with the plain-text 404", async () => {
    const { app } = await harness();
    for (const [method, url, payload] of [
      ["GET", "/nope", undefined],
      ["POST", "/api/unknown", "{"],
      ["GET", "/api", undefined],
    ] as const) {
      const res = await app.inject({ method, url, payload, headers: { "content-type": "application/json" } });
      expect(res.statusCode).toBe(404);
      expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expect(res.body).toBe("404 page not found\n");
      expect(res.headers["content-security-policy"]).toBe(CSP);
    }
  });

  it("sends compact JSON with exactly one trailing newline and a bare application/json type", async () => {
    const { app } = await harness();
    const res = await app.inject({ method: "GET", url: "/api/agents" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.body).toBe("[]\n");
    const err = await app.inject({ method: "POST", url: "/api/send", payload: "{}" });
    expect(err.headers["content-type"]).toBe("application/json");
    expect(err.body).toBe('{"error":"content is required"}\n');
  });

  it("puts the exact CSP on every response", async () => {
    const { app } = await harness();
    expect(CONTENT_SECURITY_POLICY).toBe(CSP);
    for (const url of ["/health", "/health/ready", "/api/agents", "/api/agents/x/history", "/api/agents/x/y", "/%zz"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.headers["content-security-policy"], url).toBe(CSP);
    }
  });

  it("answers a malformed URL with a JSON 400, never fastify's own message", async () => {
    const { app } = await harness();
    const res = await app.inject({ method: "GET", url: "/api/agents/%zz/history" });
    expect(res.statusCode).toBe(400);
    expect(res.body).toBe('{"error":"invalid path"}\n');
  });
});

describe("error handler", () => {
  function throwingAuth(err: unknown): HttpAuthenticator {
    return {
      authenticate: async () => {
        throw err;
      },
    };
  }

  it("maps GatewayError codes to statuses with their message", async () => {
    const { app } = await harness({ deps: { auth: throwingAuth(new GatewayError("UNAUTHENTICATED", "missing authorization header")) } });
    const res = await app.inject({ method: "GET", url: "/api/agents" });
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe('{"error":"missing authorization header"}\n');
  });

  it("redacts unknown errors as 500 internal server error and logs the cause", async () => {
    const secret = new Error("database password is hunter2");
    const { app, log } = await harness({ deps: { auth: throwingAuth(secret) } });
    const res = await app.inject({ method: "GET", url: "/api/agents" });
    expect(res.statusCode).toBe(500);
    expect(res.body).toBe('{"error":"internal server error"}\n');
    const entry = log.entries.find((e) => e.level === "error" && e.msg === "http request failed");
    expect(entry?.attrs.cause).toBe(secret);
  });

  it("redacts GatewayError INTERNAL too", async () => {
    const { app } = await harness({ deps: { auth: throwingAuth(new GatewayError("INTERNAL", "sqlite said no")) } });
    const res = await app.inject({ method: "GET", url: "/api/agents" });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: "internal server error" });
  });
});

describe("auth hook", () => {
  it("runs once per JWT route request with the header and ip, and never on public routes", async () => {
    const calls: Array<{ authorization: string | undefined; ip: string }> = [];
    const principal: HttpPrincipal = { id: "p1", isAnonymous: false, roles: [] };
    const auth: HttpAuthenticator = {
      authenticate: async (request) => {
        calls.push(request);
        return principal;
      },
    };
    const { app } = await harness({ deps: { auth } });
    await app.inject({ method: "GET", url: "/api/agents", headers: { authorization: "Bearer abc" } });
    expect(calls).toEqual([{ authorization: "Bearer abc", ip: "127.0.0.1" }]);
    for (const url of ["/health", "/health/ready", "/nope"]) await app.inject({ method: "GET", url });
    expect(calls).toHaveLength(1);
  });

  it("runs before the /api/agents/ suffix dispatch", async () => {
    const auth: HttpAuthenticator = {
      authenticate: async () => {
        throw new GatewayError("UNAUTHENTICATED", "invalid token");
      },
    };
    const { app } = await harness({ deps: { auth } });
    const res = await app.inject({ method: "GET", url: "/api/agents/a1/bogus" });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: "invalid token" });
  });
});

describe("shutdown gate", () => {
  it("answers API requests 503 while /health stays 200 and /health/ready says shutting down", async () => {
    let shuttingDown = false;
    const { app } = await harness({ deps: { lifecycle: { isShuttingDown: () => shuttingDown } } });
    expect((await app.inject({ method: "GET", url: "/api/agents" })).statusCode).toBe(200);
    shuttingDown = true;
    for (const [method, url] of [
      ["GET", "/api/agents"],
      ["POST", "/api/send"],
      ["GET", "/api/agents/a/history"],
      ["GET", "/api/health/stream"],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, url).toBe(503);
      expect(res.body).toBe('{"error":"gateway shutting down"}\n');
    }
    const health = await app.inject({ method: "GET", url: "/health" });
    expect(health.statusCode).toBe(200);
    expect(health.body).toBe("OK");
    const ready = await app.inject({ method: "GET", url: "/health/ready" });
    expect(ready.statusCode).toBe(503);
    expect(ready.body).toBe("shutting down");
  });
});

describe("malformed HTTP", () => {
  it("answers a request that is not valid HTTP with our error shape and the CSP header", async () => {
    const url = new URL(await (await harness()).listen());
    const { connect } = await import("node:net");
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write("GET /health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n");
      });
      let data = "";
      socket.on("data", (chunk: Buffer) => (data += chunk.toString()));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(raw.startsWith("HTTP/1.1 400 Bad Request\r\n")).toBe(true);
    expect(raw).toContain(`Content-Security-Policy: ${CSP}\r\n`);
    expect(raw.endsWith('\r\n\r\n{"error":"bad request"}\n')).toBe(true);
  });
});

describe("construction", () => {
  it("builds without a fastify deprecation warning (FSTDEP022 maxParamLength)", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      await harness();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });
});
