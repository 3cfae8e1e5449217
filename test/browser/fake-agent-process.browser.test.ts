// ABOUTME: The web admin in Chromium against the built `fake-agent` executable as a child process (web-admin.md §10.2):
// ABOUTME: log in, chat, see a chunked scripted reply stream in, approve the tool card the agent asks for, turn ends.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildDist, BUILD_DIST_TIMEOUT_MS } from "../support/build-dist.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { fingerprintOf, seedPrincipal } from "../support/identity-fixtures.js";
import { parseOpenSshPrivateKey } from "../../cmd/fake-agent/ssh-signer.js";
import { ADMIN } from "../webadmin/support.js";
import { ConsoleLog, hasChromium, launchChromium, startBrowserGateway } from "./support.js";
import { testKeyPair } from "../support/key-pairs.js";

const FAKE_AGENT = fileURLToPath(new URL("../../dist/cmd/fake-agent.js", import.meta.url));
const WAIT = { timeout: 15_000 };
const AGENT_ID = "proc-agent";

/** The reply script: a chunked markdown answer, and a turn that asks for approval before finishing. */
const SCRIPT = {
  rules: [
    {
      match: "approve me",
      steps: [
        { tool_use: { id: "ls-1", name: "bash", input: { cmd: "ls -la" } } },
        { approval: { id: "ls-1", name: "bash", input: { cmd: "ls -la" }, on_deny: "error" } },
        { tool_result: { id: "ls-1", output: "README.md" } },
        { text: "listing **finished**" },
        { done: true },
      ],
    },
  ],
  default: [{ text: "You said: **{{message}}** and this arrives in pieces", chunks: 4, chunk_delay_ms: 30 }, { done: true }],
};

if (!hasChromium) {
  describe.skip("chromium not installed", () => {
    it("web admin with a fake-agent process", () => {});
  });
} else {
  describe("web admin in Chromium with the fake-agent executable", () => {
    let browser: Browser;
    let gw: TestGateway;
    let base: string;
    let context: BrowserContext;
    let page: Page;
    let dir: string;
    let child: ChildProcess | undefined;
    let agentLog = "";
    const consoleLog = new ConsoleLog();

    beforeAll(async () => {
      if (!existsSync(FAKE_AGENT)) await buildDist();
      dir = mkdtempSync(join(tmpdir(), "webadmin-fake-agent-"));
      browser = await launchChromium();
      ({ gw, base } = await startBrowserGateway());

      // An approved agent principal whose SSH key the child process signs its stream with.
      const pem = testKeyPair("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
      const keyPath = join(dir, "agent-key");
      writeFileSync(keyPath, pem, { mode: 0o600 });
      const fingerprint = fingerprintOf(parseOpenSshPrivateKey(pem));
      await seedPrincipal(gw.gateway.store.db, { type: "agent", fingerprint, displayName: `${AGENT_ID} principal` });
      const scriptPath = join(dir, "script.json");
      writeFileSync(scriptPath, JSON.stringify(SCRIPT));

      child = spawn(
        process.execPath,
        [FAKE_AGENT, "-addr", gw.grpcAddr, "-id", AGENT_ID, "-name", "Process Agent", "-capabilities", "chat,ui", "-features", "tool_states,token_usage", "-ssh-key", keyPath, "-script", scriptPath],
        { env: { PATH: process.env.PATH }, stdio: ["ignore", "ignore", "pipe"] },
      );
      const proc = child;
      await new Promise<void>((resolve, reject) => {
        proc.stderr!.on("data", (d: Buffer) => {
          agentLog += d.toString();
          if (agentLog.includes(`registered as ${AGENT_ID}`)) resolve();
        });
        proc.once("exit", (code) => reject(new Error(`fake-agent exited ${code}: ${agentLog}`)));
      });

      context = await browser.newContext();
      page = consoleLog.watch(await context.newPage());
    }, BUILD_DIST_TIMEOUT_MS);

    afterAll(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child!.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await context?.close();
      await browser?.close();
      await gw?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("setup and sign-in land on the chat, which lists the fake-agent process", async () => {
      await page.goto(`${base}/login`);
      await page.waitForURL(`${base}/setup`, WAIT);
      await page.fill('input[name="username"]', ADMIN.username);
      await page.fill('input[name="display_name"]', ADMIN.displayName);
      await page.fill('input[name="password"]', ADMIN.password);
      await page.click('[data-testid="setup-form"] button[type="submit"]');
      await page.getByText("Setup Complete").waitFor(WAIT);
      await page.click("text=Start Chatting");
      await page.waitForURL(`${base}/`, WAIT);
      await page.click('[data-testid="logout-form"] button');
      await page.waitForURL(`${base}/login`, WAIT);
      await page.fill('input[name="username"]', ADMIN.username);
      await page.fill('input[name="password"]', ADMIN.password);
      await page.click('[data-testid="login-form"] button[type="submit"]');
      await page.waitForURL(`${base}/`, WAIT);
      await page.locator(`[data-testid="agent-list"] [data-agent-id="${AGENT_ID}"]`).waitFor(WAIT);
    }, 60_000);

    it("a message reaches the process and its chunked reply streams in, rendered as markdown, and completes", async () => {
      await page.click(`[data-testid="agent-list"] [data-agent-id="${AGENT_ID}"]`, WAIT);
      await page.fill('[data-testid="chat-input"]', "hello process");
      await page.press('[data-testid="chat-input"]', "Enter");
      await page.locator('[data-testid="user-message"]', { hasText: "hello process" }).waitFor(WAIT);
      const bubble = page.locator('[data-testid="agent-message"]', { hasText: "arrives in pieces" });
      await bubble.locator("strong", { hasText: "hello process" }).waitFor(WAIT);
      expect(await bubble.textContent()).toContain("You said: hello process and this arrives in pieces");
      const requestId = await bubble.getAttribute("data-request-id");
      expect(requestId).toBeTruthy();
      await page.waitForFunction(`!document.querySelector('[data-request-id="${requestId}"]').classList.contains("streaming")`, undefined, WAIT);
    }, 60_000);

    it("the process asks for approval; approving from the card lets it finish the turn", async () => {
      await page.fill('[data-testid="chat-input"]', "please approve me");
      await page.press('[data-testid="chat-input"]', "Enter");
      const card = page.locator('[data-testid="approval-card"][data-tool-id="ls-1"]');
      await card.waitFor(WAIT);
      expect(await card.textContent()).toContain("ls -la");
      await card.locator('[data-testid="approve-btn"]').click();
      await card.getByText("Approved").waitFor(WAIT);
      // Only an approval the process received lets its script go on past the approval step (a deny errors the turn).
      const bubble = page.locator('[data-testid="agent-message"]', { hasText: "listing" });
      await bubble.locator("strong", { hasText: "finished" }).waitFor(WAIT);
      const requestId = await bubble.getAttribute("data-request-id");
      await page.waitForFunction(`!document.querySelector('[data-request-id="${requestId}"]').classList.contains("streaming")`, undefined, WAIT);
      expect(await page.locator('[data-testid="chat-error"]').count()).toBe(0);
      expect(consoleLog.cspViolations()).toEqual([]);
    }, 60_000);
  });
}
