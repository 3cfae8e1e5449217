// ABOUTME: Web admin management actions in a real Chromium (web-admin.md §10.2 scenarios 9-11): revoking and
// ABOUTME: re-approving an SSH agent's principal, bindings/tokens/secrets with their audit rows, and a device link.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { ScriptedAgent } from "../rpc/support/conversation-clients.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { bearerMetadata, callUnary, clientServiceClient } from "../support/proto-client.js";
import { ADMIN } from "../webadmin/support.js";
import { connectSshAgent, ConsoleLog, hasChromium, launchChromium, startBrowserGateway } from "./support.js";

const WAIT = { timeout: 10_000 };

if (!hasChromium) {
  describe.skip("chromium not installed", () => {
    it("web admin action scenarios", () => {});
  });
} else {
  describe("web admin actions in Chromium", () => {
    let browser: Browser;
    let gw: TestGateway;
    let base: string;
    let context: BrowserContext;
    let page: Page;
    const consoleLog = new ConsoleLog();
    const agents: ScriptedAgent[] = [];

    /** The audit rows of `action` by the web admin, newest first, with their parsed details. */
    const audited = async (action: string) =>
      (await gw.gateway.store.db.selectFrom("audit_log").selectAll().where("action", "=", action as never).orderBy("ts", "desc").execute()).map((r) => ({
        actor: r.actor_principal_id,
        targetId: r.target_id,
        detail: JSON.parse(r.detail_json ?? "{}") as Record<string, unknown>,
      }));

    beforeAll(async () => {
      browser = await launchChromium();
      ({ gw, base } = await startBrowserGateway());
      context = await browser.newContext();
      page = consoleLog.watch(await context.newPage());
      page.on("dialog", (dialog) => void dialog.accept());
      await page.goto(`${base}/setup`);
      await page.fill('input[name="username"]', ADMIN.username);
      await page.fill('input[name="display_name"]', ADMIN.displayName);
      await page.fill('input[name="password"]', ADMIN.password);
      await page.uncheck('input[name="create_principal"]');
      await page.click('[data-testid="setup-form"] button[type="submit"]');
      await page.getByText("Setup Complete").waitFor(WAIT);
    }, 60_000);

    afterAll(async () => {
      for (const agent of agents) agent.close();
      await context?.close();
      await browser?.close();
      await gw?.stop();
    });

    const sidebarAgent = (id: string) => page.locator(`[data-testid="agent-list"] [data-agent-id="${id}"]`);

    it("9. revoking an SSH agent's principal ends its stream and drops it from the sidebar; approving lets it back", async () => {
      const bystander = await connectSshAgent(gw, "bystander");
      const target = await connectSshAgent(gw, "revokee");
      agents.push(bystander.agent, target.agent);
      await page.goto(`${base}/`);
      await sidebarAgent("revokee").waitFor(WAIT);

      await page.goto(`${base}/admin/principals`);
      await page.click(`tr[data-principal-id="${target.principalId}"] [data-testid="principal-revoke"]`);
      await page.locator('[data-testid="notice"]', { hasText: "Principal revoked" }).waitFor(WAIT);
      const ended = await target.agent.stream.status;
      expect(ended.code).not.toBe(0);
      expect(await page.locator(`tr[data-principal-id="${target.principalId}"] .badge-revoked`).count()).toBe(1);

      await page.goto(`${base}/`);
      await sidebarAgent("bystander").waitFor(WAIT);
      expect(await sidebarAgent("revokee").count()).toBe(0);

      await page.goto(`${base}/admin/principals`);
      await page.click(`tr[data-principal-id="${target.principalId}"] [data-testid="principal-approve"]`);
      await page.locator('[data-testid="notice"]', { hasText: "Principal approved" }).waitFor(WAIT);
      agents.push(await target.reconnect());
      await page.goto(`${base}/`);
      await sidebarAgent("revokee").waitFor(WAIT);

      for (const action of ["revoke_principal", "approve_principal"]) {
        const [row] = await audited(action);
        expect(row, action).toMatchObject({ targetId: target.principalId, detail: { username: ADMIN.username } });
        expect(row?.actor, action).toMatch(/^webadmin:/);
      }
    });

    it("10. bindings create and delete, a token shown once, secrets create/reveal/update/delete, each audited", async () => {
      const bound = await connectSshAgent(gw, "bound");
      agents.push(bound.agent);

      // Bindings
      await page.goto(`${base}/admin/bindings`);
      const form = page.locator('[data-testid="binding-form"]');
      await form.locator('input[name="frontend"]').fill("slack");
      await form.locator('input[name="channel_id"]').fill("C-browser");
      await form.locator('select[name="agent_id"]').selectOption(bound.principalId);
      await form.locator('button[type="submit"]').click();
      await page.locator('[data-testid="notice"]', { hasText: "Binding created" }).waitFor(WAIT);
      const row = page.locator("tr[data-binding-id]", { hasText: "C-browser" });
      await row.waitFor(WAIT);
      const bindingId = await row.getAttribute("data-binding-id");
      await row.locator('[data-testid="binding-delete"]').click();
      await page.locator('[data-testid="notice"]', { hasText: "Binding deleted" }).waitFor(WAIT);
      expect(await page.locator("tr[data-binding-id]", { hasText: "C-browser" }).count()).toBe(0);
      for (const action of ["create_binding", "delete_binding"]) {
        expect((await audited(action))[0], action).toMatchObject({ targetId: bindingId, detail: { username: ADMIN.username, channel_id: "C-browser" } });
      }

      // Tokens: shown once
      await page.goto(`${base}/admin/tokens`);
      await page.locator('[data-testid="token-form"] select[name="principal_id"]').selectOption(bound.principalId);
      await page.fill('[data-testid="token-form"] input[name="ttl_days"]', "7");
      await page.click('[data-testid="token-form"] button[type="submit"]');
      expect(await page.locator('[data-testid="token-value"]').textContent(WAIT)).toMatch(/^eyJ/);
      await page.goto(`${base}/admin/tokens`);
      expect(await page.locator('[data-testid="token-value"]').count()).toBe(0);
      expect((await audited("create_token"))[0]).toMatchObject({ targetId: bound.principalId, detail: { username: ADMIN.username, ttl_seconds: 7 * 86_400 } });

      // Secrets
      await page.goto(`${base}/admin/secrets`);
      const secretForm = page.locator('[data-testid="secret-form"]');
      await secretForm.locator('input[name="key"]').fill("BROWSER_SECRET");
      await secretForm.locator('input[name="value"]').fill("hunter2-value");
      await secretForm.locator('button[type="submit"]').click();
      await page.locator('[data-testid="notice"]', { hasText: "Secret created" }).waitFor(WAIT);
      const secretRow = page.locator("tr[data-secret-id]", { hasText: "BROWSER_SECRET" });
      expect(await secretRow.locator('[data-testid="secret-value"]').textContent()).toBe("••••••••");
      expect(await page.content()).not.toContain("hunter2-value");
      await secretRow.locator('[data-testid="secret-reveal"]').click();
      await secretRow.locator('[data-testid="secret-value"]', { hasText: "hunter2-value" }).waitFor(WAIT);
      await secretRow.locator('[data-testid="secret-new-value"]').fill("rotated-value");
      await secretRow.locator('[data-testid="secret-update"]').click();
      await page.locator('[data-testid="notice"]', { hasText: "Secret updated" }).waitFor(WAIT);
      const updated = page.locator("tr[data-secret-id]", { hasText: "BROWSER_SECRET" });
      await updated.locator('[data-testid="secret-reveal"]').click();
      await updated.locator('[data-testid="secret-value"]', { hasText: "rotated-value" }).waitFor(WAIT);
      await updated.locator('[data-testid="secret-delete"]').click();
      await page.locator('[data-testid="notice"]', { hasText: "Secret deleted" }).waitFor(WAIT);
      expect(await page.locator("tr[data-secret-id]", { hasText: "BROWSER_SECRET" }).count()).toBe(0);
      for (const action of ["create_secret", "update_secret", "delete_secret"]) {
        const [entry] = await audited(action);
        expect(entry, action).toMatchObject({ detail: { username: ADMIN.username, key: "BROWSER_SECRET" } });
        expect(JSON.stringify(entry?.detail), action).not.toMatch(/hunter2|rotated/);
      }
    });

    it("11. a device link requested over HTTP is approved on /admin/link and its token authenticates GetMe", async () => {
      const requested = await fetch(`${base}/api/link/request`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ fingerprint: "d".repeat(64), device_name: "Browser Laptop" }),
      });
      expect(requested.status).toBe(200);
      const { code } = (await requested.json()) as { code: string };
      const pending = await fetch(`${base}/api/link/status/${code}`);
      expect(await pending.json()).toEqual({ status: "pending" });

      await page.goto(`${base}/admin/link`);
      const row = page.locator(`tr[data-link-code="${code}"]`);
      await row.waitFor(WAIT);
      expect(await row.textContent()).toContain("Browser Laptop");
      await row.locator('[data-testid="link-approve"]').click();
      await page.locator('[data-testid="notice"]', { hasText: "Approved Browser Laptop" }).waitFor(WAIT);

      const status = (await (await fetch(`${base}/api/link/status/${code}`)).json()) as { status: string; token: string; principal_id: string };
      expect(status).toMatchObject({ status: "approved", token: expect.stringMatching(/^eyJ/) });
      const client = clientServiceClient(gw.grpcAddr);
      try {
        const me = await callUnary(client, "GetMe", {}, bearerMetadata(status.token));
        expect(me.response).toMatchObject({ principal_id: status.principal_id, principal_type: "client", display_name: "Browser Laptop", status: "approved" });
      } finally {
        client.close();
      }
      expect((await audited("approve_link"))[0]).toMatchObject({ detail: { username: ADMIN.username, device_name: "Browser Laptop" } });
    });

    it("thread detail renders message rows with the chat's markdown renderer, inert against injection", async () => {
      const db = gw.gateway.store.db;
      const stamp = "2026-01-01T00:00:00.000Z";
      await db.insertInto("threads").values({ id: "th-browser", frontend_name: "webadmin", external_id: "x", agent_id: "a1", created_at: stamp, updated_at: stamp }).execute();
      await db
        .insertInto("ledger_events")
        .values({
          event_id: "ev-browser",
          conversation_key: "a1",
          thread_id: "th-browser",
          request_id: null,
          direction: "outbound_from_agent",
          author: "a1",
          timestamp: stamp,
          type: "message",
          text: "**bold** and\n- one\n- two\n<img src=x onerror=window.__pwned=1> [click](javascript:window.__pwned=2)",
          raw_transport: null,
          raw_payload_ref: null,
          actor_principal_id: null,
          actor_member_id: null,
        })
        .execute();
      await page.goto(`${base}/admin/threads/th-browser`);
      const message = page.locator('[data-testid="thread-message"]');
      await message.locator("strong", { hasText: "bold" }).waitFor(WAIT);
      expect(await message.locator("ul li").count()).toBe(2);
      expect(await message.locator("img").count()).toBe(0);
      expect(await message.locator("a").count()).toBe(0);
      expect(await message.textContent()).toContain("<img src=x onerror=window.__pwned=1>");
      expect(await page.evaluate("window.__pwned")).toBeUndefined();
      expect(consoleLog.cspViolations()).toEqual([]);
    });
  });
}
