// ABOUTME: The dashboard template (web-admin.md §5.1): cards, usage totals, agent and pack tables, and the
// ABOUTME: invite and passkey actions.
import { html, type SafeHtml } from "./html.js";
import { layoutPage, type PageChrome } from "./layout.js";
import { timeCell } from "./parts.js";

export interface DashboardData {
  cards: ReadonlyArray<{ label: string; value: number }>;
  usage: { input: number; output: number; cacheRead: number; cacheWrite: number; thinking: number; total: number; requests: number };
  agents: ReadonlyArray<{ id: string; name: string; state: string }>;
  packs: ReadonlyArray<{ id: string; version: string; toolCount: number }>;
  inviteUrl?: string | undefined;
  passkeys: ReadonlyArray<{ createdAt: string }>;
}

export function dashboardPage(chrome: PageChrome, data: DashboardData): SafeHtml {
  const u = data.usage;
  return layoutPage({
    title: "Dashboard",
    chrome,
    scripts: ["/static/vendor/simplewebauthn-browser.umd.min.js", "/static/passkey.js"],
    body: html`<h1>Dashboard</h1>
<section class="cards">${data.cards.map((c) => html`<div class="card stat"><div class="stat-value">${c.value}</div><div class="stat-label">${c.label}</div></div>`)}</section>
<h2>Usage (all time)</h2>
<table class="totals"><tr><th>Input</th><th>Output</th><th>Cache read</th><th>Cache write</th><th>Thinking</th><th>Total</th><th>Requests</th></tr>
<tr><td>${u.input}</td><td>${u.output}</td><td>${u.cacheRead}</td><td>${u.cacheWrite}</td><td>${u.thinking}</td><td>${u.total}</td><td>${u.requests}</td></tr></table>
<h2>Connected agents</h2>
${
  data.agents.length === 0
    ? html`<p class="empty">No agents are connected.</p>`
    : html`<table><tr><th>Name</th><th>ID</th><th>State</th><th></th></tr>${data.agents.map(
        (a) => html`<tr><td>${a.name}</td><td class="mono">${a.id}</td><td><span class="badge state-${a.state}">${a.state}</span></td><td><a href="/admin/agents/${encodeURIComponent(a.id)}">Details</a></td></tr>`,
      )}</table>`
}
<h2>Packs</h2>
${
  data.packs.length === 0
    ? html`<p class="empty">No packs are registered.</p>`
    : html`<table><tr><th>ID</th><th>Version</th><th>Tools</th></tr>${data.packs.map(
        (p) => html`<tr><td class="mono">${p.id}</td><td>${p.version}</td><td>${p.toolCount}</td></tr>`,
      )}</table>`
}
<section class="actions">
<div class="card">
<h2>Invite an admin</h2>
<form method="post" action="/admin/invites" data-testid="invite-form">
  <input type="hidden" name="csrf_token" value="${chrome.csrfToken}">
  <button type="submit" data-testid="invite-create">Create invite</button>
</form>
${
  data.inviteUrl === undefined
    ? ""
    : html`<p>Invite link (valid 24 hours, single use):</p><div class="secret-box"><code data-testid="invite-url" id="invite-url">${data.inviteUrl}</code> <button type="button" class="secondary" data-copy-target="invite-url">Copy</button></div>`
}
</div>
<div class="card">
<h2>Passkeys</h2>
<p data-testid="passkey-count">${data.passkeys.length === 1 ? "1 passkey" : `${data.passkeys.length} passkeys`}</p>
${data.passkeys.length === 0 ? "" : html`<ul class="passkeys">${data.passkeys.map((p) => html`<li>Added ${timeCell(p.createdAt)}</li>`)}</ul>`}
<button type="button" data-testid="add-passkey">Add passkey</button>
<p class="passkey-status" data-testid="passkey-status" role="status"></p>
</div>
</section>`,
  });
}
