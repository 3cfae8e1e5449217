// ABOUTME: The management pages through app.inject (web-admin.md §5, §7): every page renders gated and without
// ABOUTME: inline code, CSRF on their actions, and each action leaves its audit row with the admin username.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { webErrorOf } from "../../src/webadmin/web-errors.js";
import { connectAgent, createCleanups } from "../e2e/support/conversation-e2e.js";
import { isoTimestamp } from "../../src/lib/clock.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { seedPrincipal } from "../support/identity-fixtures.js";
import { Browser, signedIn, startWebGateway } from "./support.js";

const PAGES = ["/admin/agents", "/admin/threads", "/admin/principals", "/admin/bindings", "/admin/tokens", "/admin/secrets", "/admin/usage", "/admin/tools", "/admin/link", "/admin/approvals", "/admin/dashboard", "/admin/logs", "/admin/todos", "/admin/board"];

describe("web admin pages", () => {
  let gw: TestGateway;
  let b: Browser;
  const audit = async (action: string) => createAuditRepository(gw.gateway.store.db).list({ action: action as never, limit: 20 });

  beforeAll(async () => {
    gw = await startWebGateway();
    b = await signedIn(gw);
  });
  afterAll(async () => {
    await gw.stop();
  });

  it("renders every page for a session, redirects without one, and keeps markup free of inline code", async () => {
    const anon = new Browser(gw.gateway.http);
    for (const path of PAGES) {
      expect((await anon.get(path)).headers.location, path).toBe("/login");
      const res = await b.get(path);
      expect(res.statusCode, path).toBe(200);
      for (const tag of res.body.match(/<script\b[^>]*>/g) ?? []) expect(/src="\/static\/|type="application\/json"/.test(tag), tag).toBe(true);
      expect(res.body).not.toMatch(/<[^>]+\son[a-z]+\s*=/i);
    }
    expect((await anon.get("/admin/secrets/x/value")).statusCode).toBe(401);
  });

  it("refuses page actions without a CSRF token", async () => {
    for (const path of ["/admin/principals", "/admin/bindings", "/admin/tokens", "/admin/secrets", "/admin/approvals/decide", "/admin/link/x/approve", "/admin/principals/x/revoke"]) {
      const res = await b.form(path, {}, { csrf: "0".repeat(64) });
      expect([res.statusCode, res.body], path).toEqual([403, "Invalid request"]);
    }
  });

  it("approves, revokes and deletes principals through the identity service, audited with the username", async () => {
    const id = await seedPrincipal(gw.gateway.store.db, { type: "client", status: "pending", displayName: "<b>Eve</b>" });
    const list = await b.get("/admin/principals");
    expect(list.body).toContain("&lt;b&gt;Eve&lt;/b&gt;");
    expect((await b.form(`/admin/principals/${id}/approve`, {})).headers.location).toBe("/admin/principals?notice=principal_approved");
    expect((await b.get("/admin/principals?notice=principal_approved")).body).toContain('data-testid="notice" role="status">Principal approved<');
    expect((await b.form(`/admin/principals/${id}/revoke`, {})).statusCode).toBe(303);
    expect((await b.form(`/admin/principals/${id}/delete`, {})).statusCode).toBe(303);
    const missing = await b.form(`/admin/principals/${id}/delete`, {});
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain("Principal not found");
    const anon = await b.form("/admin/principals/anonymous/delete", {});
    expect(anon.statusCode).toBe(409);
    for (const action of ["approve_principal", "revoke_principal", "delete_principal"]) {
      const [row] = await audit(action);
      expect(row?.actor, action).toMatch(/^webadmin:/);
      expect(JSON.parse(row?.detailJson ?? "{}"), action).toMatchObject({ username: "alice" });
    }
    expect((await b.form("/admin/principals", { type: "agent", display_name: "made here", pubkey_fp: "c".repeat(64), roles: "member" })).statusCode).toBe(303);
    const [created] = await audit("create_principal");
    expect(JSON.parse(created?.detailJson ?? "{}")).toMatchObject({ username: "alice", type: "agent", display_name: "made here" });
    const bad = await b.form("/admin/principals", { type: "robot", display_name: "x" });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("invalid type: robot (use &#39;client&#39; or &#39;agent&#39;)");
  });

  it("creates and deletes bindings with the AdminService texts", async () => {
    const agent = await seedPrincipal(gw.gateway.store.db, { type: "agent", displayName: "bound agent" });
    const bad = await b.form("/admin/bindings", { frontend: "Bad!", channel_id: "c", agent_id: agent });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("frontend must be lowercase alphanumeric with underscores, 1-50 chars");
    expect((await b.form("/admin/bindings", { frontend: "slack", channel_id: "C1", agent_id: agent })).headers.location).toBe("/admin/bindings?notice=binding_created");
    const dup = await b.form("/admin/bindings", { frontend: "slack", channel_id: "C1", agent_id: agent });
    expect(dup.statusCode).toBe(409);
    expect(dup.body).toContain("channel already bound");
    const [binding] = await gw.gateway.domain.bindings.list();
    expect(binding?.createdBy).toMatch(/^webadmin:/);
    expect(binding?.workingDir).toBe("");
    expect((await b.form("/admin/bindings", { frontend: "slack", channel_id: "C2", agent_id: agent, working_dir: " /work/repo " })).statusCode).toBe(303);
    const withDir = (await gw.gateway.domain.bindings.list()).find((x) => x.channelId === "C2");
    expect(withDir?.workingDir).toBe("/work/repo");
    expect((await b.get("/admin/bindings")).body).toContain("<td>/work/repo</td>");
    expect((await b.form(`/admin/bindings/${withDir?.id}/delete`, {})).statusCode).toBe(303);
    expect((await b.form(`/admin/bindings/${binding?.id}/delete`, {})).statusCode).toBe(303);
    expect((await b.form(`/admin/bindings/${binding?.id}/delete`, {})).body).toContain("binding not found");
    expect(await audit("create_binding")).toHaveLength(2);
    expect(await audit("delete_binding")).toHaveLength(2);
    for (const action of ["create_binding", "delete_binding"]) expect(JSON.parse((await audit(action))[0]?.detailJson ?? "{}"), action).toMatchObject({ username: "alice", frontend: "slack" });
  });

  it("issues a token once, with the ttl checks, and lists it from the audit log", async () => {
    const id = await seedPrincipal(gw.gateway.store.db, { type: "client", displayName: "token holder" });
    const badTtl = await b.form("/admin/tokens", { principal_id: id, ttl_days: "400" });
    expect(badTtl.statusCode).toBe(400);
    expect(badTtl.body).toContain("ttl_days must be between 1 and 365");
    const unknown = await b.form("/admin/tokens", { principal_id: "nope", ttl_days: "5" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain("principal not found");
    const ok = await b.form("/admin/tokens", { principal_id: id, ttl_days: "5" });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toMatch(/data-testid="token-value" id="token-value">eyJ/);
    expect(ok.body).toMatch(/data-testid="token-expires">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</);
    expect((await b.get("/admin/tokens")).body).not.toContain('data-testid="token-value"');
    const issued = (await audit("create_token")).find((a) => a.targetId === id);
    expect(JSON.parse(issued?.detailJson ?? "{}")).toMatchObject({ username: "alice", ttl_seconds: 5 * 86_400 });
  });

  it("creates, reveals, updates and deletes secrets; the value is masked and never audited", async () => {
    expect((await b.form("/admin/secrets", { key: "", value: "" })).body).toContain("Key and value are required");
    expect((await b.form("/admin/secrets", { key: "1BAD", value: "v" })).body).toContain("Key must be a valid environment variable name");
    expect((await b.form("/admin/secrets", { key: "API_KEY", value: "s3cret-value" })).headers.location).toBe("/admin/secrets?notice=secret_created");
    const dup = await b.form("/admin/secrets", { key: "API_KEY", value: "other" });
    expect(dup.body).toContain("secret with key &quot;API_KEY&quot; already exists for this scope");
    const page = await b.get("/admin/secrets");
    expect(page.body).not.toContain("s3cret-value");
    expect(page.body).toContain("••••••••");
    const id = /data-secret-id="([^"]+)"/.exec(page.body)?.[1] ?? "";
    const reveal = await b.get(`/admin/secrets/${id}/value`);
    expect([reveal.statusCode, reveal.body]).toEqual([200, '{"value":"s3cret-value"}\n']);
    expect((await b.get("/admin/secrets/zzz/value")).body).toBe('{"error":"Secret not found"}\n');
    expect((await b.form(`/admin/secrets/${id}`, { value: "" })).body).toContain("Value is required");
    expect((await b.form(`/admin/secrets/${id}`, { value: "new-value" })).statusCode).toBe(303);
    expect(JSON.parse((await b.get(`/admin/secrets/${id}/value`)).body)).toEqual({ value: "new-value" });
    expect((await b.json("DELETE", `/admin/secrets/${id}`)).statusCode).toBe(200);
    expect((await b.form(`/admin/secrets/${id}/delete`, {})).statusCode).toBe(404);
    for (const action of ["create_secret", "update_secret", "delete_secret"]) {
      const rows = await audit(action);
      expect(rows, action).toHaveLength(1);
      expect(rows[0]?.detailJson).toContain('"username":"alice"');
      expect(rows[0]?.detailJson).not.toContain("s3cret");
      expect(rows[0]?.detailJson).not.toContain("new-value");
    }
  });

  it("draws the usage chart as escaped inline SVG for the selected range", async () => {
    const db = gw.gateway.store.db;
    await db.insertInto("threads").values({ id: "th1", frontend_name: "direct", external_id: "th1", agent_id: "<evil>", created_at: "2026-01-01T00:00:00.000Z", updated_at: "2026-01-01T00:00:00.000Z" }).execute();
    const row = (id: string, agent: string, day: string, input: number) => ({
      id,
      thread_id: "th1",
      message_id: null,
      request_id: id,
      agent_id: agent,
      input_tokens: input,
      output_tokens: 1,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      thinking_tokens: 0,
      created_at: `${day}T10:00:00.000Z`,
    });
    await db.insertInto("message_usage").values([row("u1", "<evil>", "2026-01-01", 10), row("u2", "good", "2026-01-02", 20), row("u3", "good", "2026-02-01", 99)]).execute();
    const res = await b.get("/admin/usage?since=2026-01-01&until=2026-01-31");
    expect(res.body).toContain('data-testid="usage-chart"');
    expect(res.body).toContain("<svg");
    expect(res.body).toContain('data-agent="&lt;evil&gt;"');
    expect(res.body).not.toContain("<evil>");
    expect(res.body).toMatch(/<title>good · 2026-01-02: 21 tokens<\/title>/);
    expect(res.body).not.toContain("2026-02-01");
    expect(isoTimestamp(new Date())).toBeTruthy();
  });

  it("answers approvals from the approvals page with the service texts", async () => {
    const invalid = await b.form("/admin/approvals/decide", { agent_id: "a", tool_id: "t", decision: "maybe" });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain("Invalid decision");
    const gone = await b.form("/admin/approvals/decide", { agent_id: "nobody", tool_id: "t", decision: "approve" });
    expect(gone.statusCode).toBe(404);
    expect(gone.body).toContain("agent not found");
  });

  it("approves a pending device link code and hands out a token", async () => {
    const { code } = await gw.gateway.domain.links.request({ fingerprint: "a".repeat(64), deviceName: "my <laptop>" });
    const page = await b.get("/admin/link");
    expect(page.body).toContain(`data-link-code="${code}"`);
    expect(page.body).toContain("my &lt;laptop&gt;");
    expect(page.body).toContain('data-testid="pair-device"');
    const row = await gw.gateway.store.db.selectFrom("link_codes").select("id").where("code", "=", code).executeTakeFirstOrThrow();
    const res = await b.form(`/admin/link/${row.id}/approve`, {});
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/admin/link?notice=link_approved&name=my+%3Claptop%3E");
    expect((await b.get(String(res.headers.location))).body).toContain("Approved my &lt;laptop&gt;");
    const status = await gw.gateway.domain.links.status(code);
    expect(status).toMatchObject({ status: "approved", token: expect.stringMatching(/^eyJ/) });
    const again = await b.form(`/admin/link/${row.id}/approve`, {});
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain("Code already processed");
    expect((await b.form("/admin/link/unknown/approve", {})).statusCode).toBe(404);
    expect(await audit("approve_link")).toHaveLength(1);
    for (const action of ["approve_link", "create_principal", "create_token"]) {
      const row = (await audit(action)).find((a) => a.detailJson?.includes("my <laptop>") || a.detailJson?.includes("link_code_id") || a.detailJson?.includes('"ttl_seconds":2592000'));
      expect(JSON.parse(row?.detailJson ?? "{}"), action).toMatchObject({ username: "alice" });
    }
  });

  it("renders agent and thread detail pages; an unknown agent is offline, an unknown thread is 404", async () => {
    const agent = await b.get("/admin/agents/ghost-agent");
    expect(agent.statusCode).toBe(200);
    expect(agent.body).toContain("ghost-agent");
    expect(agent.body).toContain("badge-offline");
    expect(agent.body).toContain('href="/?agent=ghost-agent"');
    const missing = await b.get("/admin/threads/no-such-thread");
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain("Thread not found");
    await gw.gateway.store.db.insertInto("threads").values({ id: "th-detail", frontend_name: "webadmin", external_id: "x", agent_id: "a1", created_at: "2026-01-01T00:00:00.000Z", updated_at: "2026-01-01T00:00:00.000Z" }).execute();
    const thread = await b.get("/admin/threads/th-detail");
    expect(thread.statusCode).toBe(200);
    expect(thread.body).toContain("th-detail");
  });
});

describe("web admin detail pages", () => {
  let gw: TestGateway;
  let b: Browser;
  const cleanups = createCleanups();

  beforeAll(async () => {
    gw = await startWebGateway({ authOff: true });
    b = await signedIn(gw);
  });
  afterAll(async () => {
    await cleanups.run();
    await gw.stop();
  });

  it("shows the agent's last heartbeat once one arrived", async () => {
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "beating");
    expect((await b.get("/admin/agents/beating")).body).toMatch(/<th>Last heartbeat<\/th><td>—<\/td>/);
    agent.stream.send({ heartbeat: { timestamp_ms: "1" } });
    await vi.waitFor(() => expect(gw.gateway.domain.agents.get("beating")?.lastHeartbeatAt).toBeInstanceOf(Date), { timeout: 5_000 });
    const iso = isoTimestamp(gw.gateway.domain.agents.get("beating")?.lastHeartbeatAt as Date);
    expect((await b.get("/admin/agents/beating")).body).toContain(`<th>Last heartbeat</th><td>${iso}</td>`);
  });

  it("lists a disconnected agent as offline with its last-seen time, on the list and its detail page", async () => {
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "leaver");
    agent.close();
    await vi.waitFor(() => expect(gw.gateway.domain.agents.listDeparted().some((d) => d.info.agentId === "leaver")).toBe(true), { timeout: 5_000 });
    const seen = isoTimestamp(gw.gateway.domain.agents.listDeparted().find((d) => d.info.agentId === "leaver")?.lastSeenAt as Date);
    const list = await b.get("/admin/agents");
    expect(list.body).toMatch(/<tr><td>leaver<\/td><td class="mono">leaver<\/td><td><span class="badge badge-offline">offline<\/span>/);
    expect(list.body).toContain(`<time datetime="${seen}"`);
    const detail = await b.get("/admin/agents/leaver");
    expect(detail.body).toContain("badge-offline");
    expect(detail.body).toContain(`<th>Last seen</th><td>${seen}</td>`);
    expect(detail.body).toContain("<th>Working dir</th><td>/work/leaver</td>");
  });

  it("hands thread messages to the shared markdown renderer as escaped text; tool rows stay JSON", async () => {
    const db = gw.gateway.store.db;
    await db.insertInto("threads").values({ id: "th-md", frontend_name: "webadmin", external_id: "x", agent_id: "a1", created_at: "2026-01-01T00:00:00.000Z", updated_at: "2026-01-01T00:00:00.000Z" }).execute();
    const event = (id: string, type: "message" | "tool_call", text: string) => ({
      event_id: id,
      conversation_key: "a1",
      thread_id: "th-md",
      request_id: null,
      direction: "outbound_from_agent" as const,
      author: "a1",
      timestamp: "2026-01-01T00:00:01.000Z",
      type,
      text,
      raw_transport: null,
      raw_payload_ref: null,
      actor_principal_id: null,
      actor_member_id: null,
    });
    await db.insertInto("ledger_events").values([event("e1", "message", "**bold** <script>x()</script>"), event("e2", "tool_call", '{"name":"bash"}')]).execute();
    const res = await b.get("/admin/threads/th-md");
    expect(res.body).toContain('<script src="/static/markdown.js" defer></script>');
    expect(res.body).toContain('<div class="markdown-text" data-markdown data-testid="thread-message">**bold** &lt;script&gt;x()&lt;/script&gt;</div>');
    expect(res.body).toContain('<pre>{\n  &quot;name&quot;: &quot;bash&quot;\n}</pre>');
    expect((await b.get("/static/markdown.js")).statusCode).toBe(200);
  });

  it("maps chat approval failures to the service's status and text", async () => {
    await connectAgent(cleanups, gw.grpcAddr, "approver");
    const noTool = await b.json("POST", "/chat/approver/approve", { tool_id: "", decision: "approve" });
    expect([noTool.statusCode, noTool.body]).toEqual([400, '{"error":"tool_id is required"}\n']);
    const offline = await b.json("POST", "/chat/ghost/approve", { tool_id: "t", decision: "approve" });
    expect([offline.statusCode, offline.body]).toEqual([404, '{"error":"agent not found"}\n']);
    const missing = await b.json("POST", "/chat/approver/approve", { tool_id: "t", decision: "deny" });
    expect([missing.statusCode, missing.body]).toEqual([404, '{"error":"tool approval not found"}\n']);
  });

  it("shows a GatewayError's text and status, keeps the listed INTERNAL text, and redacts everything else", () => {
    expect(webErrorOf(new GatewayError("INTERNAL", "failed to send approval", { reason: "approval_send_failed" }), "Failed")).toEqual({ status: 500, message: "failed to send approval", isUnexpected: true });
    expect(webErrorOf(new GatewayError("INTERNAL", "db exploded: SQLITE_BUSY"), "Failed to answer approval")).toEqual({ status: 500, message: "Failed to answer approval", isUnexpected: true });
    expect(webErrorOf(new Error("SQLITE_CORRUPT"), "Failed")).toEqual({ status: 500, message: "Failed", isUnexpected: true });
    expect(webErrorOf(new GatewayError("UNAVAILABLE", "agent unavailable"), "Failed")).toEqual({ status: 503, message: "agent unavailable", isUnexpected: false });
    expect(webErrorOf(new GatewayError("FAILED_PRECONDITION", "tool approval already resolved"), "Failed")).toEqual({ status: 409, message: "tool approval already resolved", isUnexpected: false });
  });
});

describe("web admin offline agents cap", () => {
  let gw: TestGateway;
  let b: Browser;
  const cleanups = createCleanups();

  beforeAll(async () => {
    gw = await startWebGateway({ authOff: true, mutate: (config) => ({ ...config, limits: { ...config.limits, maxDepartedAgents: 1 } }) });
    b = await signedIn(gw);
  });
  afterAll(async () => {
    await cleanups.run();
    await gw.stop();
  });

  it("keeps only limits.max_departed_agents offline records from the gateway config, dropping the oldest", async () => {
    for (const id of ["first-out", "second-out"]) {
      const { agent } = await connectAgent(cleanups, gw.grpcAddr, id);
      agent.close();
      await vi.waitFor(() => expect(gw.gateway.domain.agents.listDeparted().some((d) => d.info.agentId === id)).toBe(true), { timeout: 5_000 });
    }
    expect(gw.gateway.domain.agents.listDeparted().map((d) => d.info.agentId)).toEqual(["second-out"]);
    const list = await b.get("/admin/agents");
    expect(list.body).toContain('<td class="mono">second-out</td>');
    expect(list.body).not.toContain('<td class="mono">first-out</td>');
  });
});
