// ABOUTME: GET /ws from a real Chromium (ws.md §13 "Browser"): a signed-in web admin page connects with its session
// ABOUTME: cookie and runs a send; pages of other origins (127.0.0.1:P, a second server on localhost:Q) get no session.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext } from "playwright-core";
import WebSocket from "ws";
import type { ScriptedAgent } from "../rpc/support/conversation-clients.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { ADMIN, Browser as CookieJar, setupAdmin } from "../webadmin/support.js";
import { connectSshAgent, hasChromium, launchChromium, startBrowserGateway } from "./support.js";

const WAIT = { timeout: 10_000 };

/** Runs in the page: opens the socket, says hello without auth, optionally sends, and reports what it saw. */
const pageSession = `async ({ url, send }) => {
  const frames = [];
  const ws = new WebSocket(url);
  return await new Promise((resolve) => {
    const finish = (closeCode) => resolve({ frames, closeCode });
    const timer = setTimeout(() => finish("timeout"), 15000);
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", min_protocol: 1, max_protocol: 1, client: { name: "page", version: "1" } }));
    ws.onclose = (e) => { clearTimeout(timer); finish(e.code); };
    ws.onmessage = (m) => {
      const frame = JSON.parse(m.data);
      frames.push(frame);
      if (frame.type === "hello-ok") {
        if (!send) { clearTimeout(timer); ws.close(1000); return; }
        ws.send(JSON.stringify({ type: "req", id: "1", method: "send", params: { content: "hi from the page", idempotency_key: "page-1", agent_id: "echo" } }));
      }
      if (frame.type === "event" && frame.event === "run" && frame.payload.kind === "done") { clearTimeout(timer); ws.close(1000); }
    };
  });
}`;

if (!hasChromium) {
  describe.skip("chromium not installed", () => {
    it("ws from the web admin page", () => {});
  });
} else {
  describe("GET /ws from Chromium", () => {
    let browser: Browser;
    let gw: TestGateway;
    let base: string;
    let context: BrowserContext;
    let agent: ScriptedAgent;

    beforeAll(async () => {
      browser = await launchChromium();
      ({ gw, base } = await startBrowserGateway());
      const jar = new CookieJar(gw.gateway.http);
      const res = await setupAdmin(jar);
      if (res.statusCode !== 200) throw new Error(`setup failed: ${res.statusCode}`);
      ({ agent } = await connectSshAgent(gw, "echo"));
      context = await browser.newContext();
    }, 60_000);

    afterAll(async () => {
      agent?.close();
      await context?.close();
      await browser?.close();
      await gw?.stop();
    });

    it("a signed-in page connects as `webadmin` and sees started … done of its send", async () => {
      const page = await context.newPage();
      await page.goto(`${base}/login`);
      await page.fill('input[name="username"]', ADMIN.username);
      await page.fill('input[name="password"]', ADMIN.password);
      await page.click('[data-testid="login-form"] button[type="submit"]');
      await page.waitForURL(`${base}/`, WAIT);
      const wsUrl = `${base.replace("http", "ws")}/ws`;
      const session = page.evaluate(`(${pageSession})(${JSON.stringify({ url: wsUrl, send: true })})`) as Promise<{
        frames: Array<Record<string, any>>;
        closeCode: number | string;
      }>;
      const message = await agent.message(1, 15_000);
      agent.respond(message.request_id as string, { text: "hello, page" });
      agent.respond(message.request_id as string, { done: { full_response: "hello, page" } });
      const { frames } = await session;
      const ok = frames.find((f) => f.type === "hello-ok");
      expect(ok?.identity).toMatchObject({ kind: "webadmin", display_name: ADMIN.username, roles: ["admin"] });
      expect(ok?.identity.id).toMatch(/^webadmin:/);
      const run = frames.filter((f) => f.type === "event" && f.event === "run").map((f) => f.payload.kind);
      expect(run).toEqual(["started", "text", "done"]);
      await page.close();
    }, 40_000);

    it("a page of another origin (127.0.0.1) gets no session: 403 at the upgrade or unauthenticated", async () => {
      const page = await context.newPage();
      const port = new URL(base).port;
      const foreign = `http://127.0.0.1:${port}/elsewhere`;
      await page.route(foreign, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>other origin</title>" }));
      await page.goto(foreign);
      const { frames, closeCode } = (await page.evaluate(`(${pageSession})(${JSON.stringify({ url: `${base.replace("http", "ws")}/ws`, send: false })})`)) as {
        frames: Array<Record<string, any>>;
        closeCode: number | string;
      };
      expect(frames.some((f) => f.type === "hello-ok")).toBe(false);
      if (frames.length > 0) {
        expect(frames[0]).toMatchObject({ type: "hello-error", reason: "unauthenticated" });
        expect(closeCode).toBe(1008);
      } else {
        expect(closeCode).toBe(1006);
      }
      await page.close();
    }, 40_000);

    it("a page of a second local HTTP server (localhost:Q) sends the cookie and is refused 403 at the upgrade", async () => {
      // Cookies are not port-scoped, so Chromium attaches coven_admin_session to ws://localhost:P from localhost:Q;
      // ws.md §2.1 step 3 must then refuse the upgrade because Origin is http://localhost:Q.
      const other: Server = createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<!doctype html><title>other server</title>");
      });
      await new Promise<void>((resolve) => other.listen(0, "localhost", resolve));
      const otherBase = `http://localhost:${(other.address() as AddressInfo).port}`;
      const upgrades: Array<{ origin?: string; cookie: boolean }> = [];
      const spy = (req: { url?: string; headers: Record<string, string | string[] | undefined> }) => {
        if (req.url === "/ws") upgrades.push({ origin: req.headers.origin as string | undefined, cookie: String(req.headers.cookie ?? "").includes("coven_admin_session=") });
      };
      gw.gateway.http.server.on("upgrade", spy);
      const page = await context.newPage();
      const consoleLines: string[] = [];
      page.on("console", (m) => consoleLines.push(m.text()));
      try {
        await page.goto(`${otherBase}/`);
        const { frames, closeCode } = (await page.evaluate(`(${pageSession})(${JSON.stringify({ url: `${base.replace("http", "ws")}/ws`, send: false })})`)) as {
          frames: Array<Record<string, any>>;
          closeCode: number | string;
        };
        expect(frames).toEqual([]);
        expect(closeCode).toBe(1006);
        expect(upgrades).toEqual([{ origin: otherBase, cookie: true }]);
        expect(consoleLines.some((l) => l.includes("Unexpected response code: 403"))).toBe(true);
      } finally {
        gw.gateway.http.server.off("upgrade", spy);
        await page.close();
        await new Promise<void>((resolve) => other.close(() => resolve()));
      }
    }, 40_000);

    it("a forged foreign Origin with the session cookie is refused 403 (ws client)", async () => {
      const cookies = await context.cookies(base);
      const session = cookies.find((c) => c.name === "coven_admin_session");
      expect(session).toBeDefined();
      const status = await new Promise<number>((resolve) => {
        const socket = new WebSocket(`${base.replace("http", "ws")}/ws`, {
          origin: "http://evil.example",
          headers: { cookie: `coven_admin_session=${session?.value}` },
        });
        socket.on("unexpected-response", (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        socket.on("open", () => {
          socket.terminate();
          resolve(101);
        });
        socket.on("error", () => undefined);
      });
      expect(status).toBe(403);
    });
  });
}
