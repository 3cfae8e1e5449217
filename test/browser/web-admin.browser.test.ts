// ABOUTME: The web admin in a real Chromium (web-admin.md §10.2): setup, sign-in, chat with markdown that stays
// ABOUTME: inert, approvals and questions that survive reload, cancel, invites and CSP hygiene, one browser launch.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { ScriptedAgent } from "../rpc/support/conversation-clients.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { ADMIN } from "../webadmin/support.js";
import { connectSshAgent, ConsoleLog, hasChromium, launchChromium, startBrowserGateway } from "./support.js";
import { testKeyPair } from "../support/key-pairs.js";

const WAIT = { timeout: 10_000 };

if (!hasChromium) {
  describe.skip("chromium not installed", () => {
    it("web admin browser scenarios", () => {});
  });
} else {
  describe("web admin in Chromium", () => {
    let browser: Browser;
    let gw: TestGateway;
    let base: string;
    let context: BrowserContext;
    let page: Page;
    const consoleLog = new ConsoleLog();
    const agents: ScriptedAgent[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
      ({ gw, base } = await startBrowserGateway());
      context = await browser.newContext();
      page = consoleLog.watch(await context.newPage());
    }, 60_000);

    afterAll(async () => {
      for (const agent of agents) agent.close();
      await context?.close();
      await browser?.close();
      await gw?.stop();
    });

    const lastMessage = async (agent: ScriptedAgent, n: number) => (await agent.message(n, 10_000)).request_id as string;

    it("1. setup shows the token once, Start Chatting lands on the chat", async () => {
      await page.goto(`${base}/login`);
      await page.waitForURL(`${base}/setup`, WAIT);
      await page.fill('input[name="username"]', ADMIN.username);
      await page.fill('input[name="display_name"]', ADMIN.displayName);
      await page.fill('input[name="password"]', ADMIN.password);
      expect(await page.isChecked('input[name="create_principal"]')).toBe(true);
      await page.click('[data-testid="setup-form"] button[type="submit"]');
      await page.getByText("Setup Complete").waitFor(WAIT);
      expect(await page.textContent('[data-testid="token-value"]')).toMatch(/^eyJ/);
      await page.click("text=Start Chatting");
      await page.waitForURL(`${base}/`, WAIT);
      await page.getByText("Select an agent to start chatting").waitFor(WAIT);
      await page.locator('[data-testid="connection-badge"][data-state="open"]').waitFor(WAIT);
    });

    it("2. sign out, wrong password, password login", async () => {
      await page.click('[data-testid="logout-form"] button');
      await page.waitForURL(`${base}/login`, WAIT);
      await page.fill('input[name="username"]', ADMIN.username);
      await page.fill('input[name="password"]', "not the password");
      await page.click('[data-testid="login-form"] button[type="submit"]');
      await page.locator('[data-testid="form-error"]', { hasText: "Invalid username or password" }).waitFor(WAIT);
      await page.fill('input[name="password"]', ADMIN.password);
      await page.click('[data-testid="login-form"] button[type="submit"]');
      await page.waitForURL(`${base}/`, WAIT);
    });

    it("3. passkeys: register on the dashboard, sign in with it, an unknown one is refused", async () => {
      const cdp = await context.newCDPSession(page);
      await cdp.send("WebAuthn.enable", { enableUI: false });
      const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
        options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      await page.goto(`${base}/admin/`);
      await page.click('[data-testid="add-passkey"]');
      await page.locator('[data-testid="passkey-status"]', { hasText: "Passkey registered successfully!" }).waitFor(WAIT);
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(credentials).toHaveLength(1);
      const rows = await gw.gateway.store.db.selectFrom("webauthn_credentials").selectAll().execute();
      expect(rows).toHaveLength(1);
      const b64url = (credentials[0]?.credentialId ?? "").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      expect(Buffer.from(rows[0]!.credential_id).toString("base64url")).toBe(b64url);
      expect(rows[0]!.attestation_type).toBe("none");
      const countBefore = rows[0]!.sign_count;

      await page.click('[data-testid="logout-form"] button');
      await page.waitForURL(`${base}/login`, WAIT);
      await page.click('[data-testid="passkey-login"]', WAIT);
      await page.waitForURL(`${base}/`, WAIT);
      await page.getByText("Select an agent to start chatting").waitFor(WAIT);
      const after = await gw.gateway.store.db.selectFrom("webauthn_credentials").select("sign_count").executeTakeFirstOrThrow();
      expect(after.sign_count).toBeGreaterThan(countBefore);
      await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });

      // An authenticator holding a credential the gateway never registered.
      const stranger = await browser.newContext();
      try {
        const other = consoleLog.watch(await stranger.newPage());
        const otherCdp = await stranger.newCDPSession(other);
        await otherCdp.send("WebAuthn.enable", { enableUI: false });
        const added = await otherCdp.send("WebAuthn.addVirtualAuthenticator", {
          options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
        });
        const { privateKey } = testKeyPair("p256");
        await otherCdp.send("WebAuthn.addCredential", {
          authenticatorId: added.authenticatorId,
          credential: {
            credentialId: randomBytes(16).toString("base64"),
            isResidentCredential: true,
            rpId: "localhost",
            privateKey: privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
            userHandle: Buffer.from("nobody").toString("base64"),
            signCount: 0,
          },
        });
        await other.goto(`${base}/login`);
        await other.click('[data-testid="passkey-login"]', WAIT);
        await other.locator('[data-testid="passkey-status"]', { hasText: "Unknown credential" }).waitFor(WAIT);
      } finally {
        await stranger.close();
      }
    });

    it("4. chat with an agent: the streamed reply renders markdown and completes on done", async () => {
      const { agent } = await connectSshAgent(gw, "echo");
      agents.push(agent);
      await page.goto(`${base}/`);
      await page.click('[data-testid="agent-list"] [data-agent-id="echo"]', WAIT);
      await page.fill('[data-testid="chat-input"]', "show me a bullet list");
      await page.press('[data-testid="chat-input"]', "Enter");
      const requestId = await lastMessage(agent, 1);
      await page.locator('[data-testid="user-message"]', { hasText: "show me a bullet list" }).waitFor(WAIT);
      agent.respond(requestId, { text: "Here you go:\n- **first** item\n" });
      agent.respond(requestId, { text: "- second item" });
      agent.respond(requestId, { done: { full_response: "Here you go:\n- **first** item\n- second item" } });
      const bubble = page.locator(`[data-testid="agent-message"][data-request-id="${requestId}"]`);
      await bubble.locator("ul li strong", { hasText: "first" }).waitFor(WAIT);
      expect(await bubble.locator("ul li").count()).toBe(2);
      await page.waitForFunction(`!document.querySelector('[data-request-id="${requestId}"]').classList.contains("streaming")`, undefined, WAIT);
    });

    it("a markdown reply with <script>, <img onerror> and javascript: links renders inert", async () => {
      const agent = agents[0] as ScriptedAgent;
      await page.fill('[data-testid="chat-input"]', "be evil");
      await page.press('[data-testid="chat-input"]', "Enter");
      const requestId = await lastMessage(agent, 2);
      const evil =
        '<script>window.__pwned = 1</script> <img src="x" onerror="window.__pwned = 2"> [click](javascript:window.__pwned=3) [safe](https://example.com/)';
      agent.respond(requestId, { text: evil });
      agent.respond(requestId, { done: { full_response: evil } });
      const bubble = page.locator(`[data-testid="agent-message"][data-request-id="${requestId}"]`);
      await bubble.getByText("window.__pwned = 1", { exact: false }).waitFor(WAIT);
      expect(await bubble.locator("script, img, [onerror]").count()).toBe(0);
      expect(await bubble.locator('a[href^="javascript:"]').count()).toBe(0);
      expect(await bubble.locator('a[href="https://example.com/"][rel="noopener noreferrer"]').count()).toBe(1);
      await page.locator('[data-agent-id="echo"]').click();
      expect(await page.evaluate("typeof window.__pwned")).toBe("undefined");
    });

    it("5. tool approval: card, reload replays it, approve reaches the agent, then a denied one", async () => {
      const agent = agents[0] as ScriptedAgent;
      await page.fill('[data-testid="chat-input"]', "clean up");
      await page.press('[data-testid="chat-input"]', "Enter");
      const requestId = await lastMessage(agent, 3);
      agent.respond(requestId, { tool_use: { id: "rm-1", name: "bash", input_json: '{"cmd":"rm -rf build"}' } });
      agent.respond(requestId, { tool_approval_request: { id: "rm-1", name: "bash", input_json: '{"cmd":"rm -rf build"}' } });
      await page.locator('[data-testid="approval-card"][data-tool-id="rm-1"]').waitFor(WAIT);
      await page.reload();
      const card = page.locator('[data-testid="approval-card"][data-tool-id="rm-1"]');
      await card.waitFor(WAIT);
      await card.locator('[data-testid="approve-btn"]').click();
      const approved = await agent.stream.next("tool_approval", (f) => (f.tool_approval as { id: string }).id === "rm-1", 10_000);
      expect(approved.tool_approval).toMatchObject({ id: "rm-1", approved: true });
      await card.getByText("Approved").waitFor(WAIT);
      expect(await card.locator('[data-testid="approve-btn"]').count()).toBe(0);

      agent.respond(requestId, { tool_approval_request: { id: "rm-2", name: "bash", input_json: '{"cmd":"rm -rf /"}' } });
      const second = page.locator('[data-testid="approval-card"][data-tool-id="rm-2"]');
      await second.locator('[data-testid="deny-btn"]').click(WAIT);
      const denied = await agent.stream.next("tool_approval", (f) => (f.tool_approval as { id: string }).id === "rm-2", 10_000);
      expect(denied.tool_approval).toMatchObject({ id: "rm-2", approved: false });
      await second.getByText("Denied").waitFor(WAIT);
      agent.respond(requestId, { done: { full_response: "ok" } });
    });

    it("6. ask_user: answered from the card, then one that times out", async () => {
      const agent = agents[0] as ScriptedAgent;
      agent.stream.send({
        execute_pack_tool: {
          request_id: "ask-1",
          tool_name: "ask_user",
          input_json: JSON.stringify({ question: "Which colour?", options: [{ label: "red", description: "warm" }, { label: "blue" }] }),
        },
      });
      const card = page.locator('[data-testid="question-card"]', { hasText: "Which colour?" });
      await card.waitFor(WAIT);
      await card.locator('[data-testid="question-option"]', { hasText: "red" }).click();
      await card.locator('[data-testid="question-submit"]').click();
      const result = await agent.stream.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === "ask-1", 10_000);
      expect(JSON.parse((result.pack_tool_result as { output_json: string }).output_json)).toEqual({ answered: true, selected: ["red"] });

      agent.stream.send({
        execute_pack_tool: {
          request_id: "ask-2",
          tool_name: "ask_user",
          input_json: JSON.stringify({ question: "Ship it?", options: [{ label: "yes" }, { label: "no" }], timeout_seconds: 2 }),
        },
      });
      const late = page.locator('[data-testid="question-card"]', { hasText: "Ship it?" });
      await late.waitFor(WAIT);
      await late.getByText("Timed out").waitFor({ timeout: 15_000 });
    });

    it("7. cancel: the agent with the cancellation feature answers, the stream shows canceled with its reason", async () => {
      const { agent } = await connectSshAgent(gw, "slowpoke", { features: ["cancellation"] });
      agents.push(agent);
      await page.goto(`${base}/?agent=slowpoke`);
      await page.locator('[data-testid="chat-messages"]').waitFor(WAIT);
      await page.fill('[data-testid="chat-input"]', "take your time");
      await page.click('[data-testid="chat-send"]');
      const requestId = await lastMessage(agent, 1);
      agent.respond(requestId, { text: "thinking about it" });
      await page.locator('[data-testid="chat-cancel"]:visible').click(WAIT);
      await agent.stream.next("cancel_request", (f) => (f.cancel_request as { request_id: string }).request_id === requestId, 10_000);
      agent.respond(requestId, { cancelled: { reason: "stopped by agent" } });
      await page.locator('[data-testid="chat-canceled"]', { hasText: "stopped by agent" }).waitFor(WAIT);
      await page.locator('[data-testid="chat-cancel"]').waitFor({ state: "hidden", timeout: 10_000 });
    });

    it("8. invite: created on the dashboard, used in a fresh context", async () => {
      await page.goto(`${base}/admin/`);
      await page.click('[data-testid="invite-create"]');
      const url = (await page.textContent('[data-testid="invite-url"]', WAIT))?.trim() ?? "";
      expect(url).toMatch(new RegExp(`^${base}/invite/[0-9a-f]{64}$`));
      const fresh = await browser.newContext();
      try {
        const guest = consoleLog.watch(await fresh.newPage());
        await guest.goto(url);
        await guest.fill('input[name="username"]', "bob_invited");
        await guest.fill('input[name="password"]', "password123");
        await guest.click('[data-testid="invite-form"] button[type="submit"]');
        await guest.waitForURL(`${base}/`, WAIT);
        await guest.getByText("Select an agent to start chatting").waitFor(WAIT);
      } finally {
        await fresh.close();
      }
    });

    it("12. no page logs a Content Security Policy violation", async () => {
      for (const path of ["/", "/admin/", "/login"]) {
        await page.goto(`${base}${path}`);
        await page.waitForLoadState("load");
      }
      expect(consoleLog.cspViolations()).toEqual([]);
    });
  });
}
