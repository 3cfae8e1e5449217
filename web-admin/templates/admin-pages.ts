// ABOUTME: Templates of the management pages (web-admin.md §5.2-5.16): agents, threads, principals, bindings,
// ABOUTME: tokens, secrets, usage, tools, device links and approvals. Plain data in, escaped markup out.
import { html, type HtmlValue, type SafeHtml } from "./html.js";
import { layoutPage, type PageChrome } from "./layout.js";
import { actionForm, badge, countdown, csrfField, table, timeCell } from "./parts.js";
import { usageChart, type DailyTokens } from "./usage-chart.js";

function pretty(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

function fingerprint(fp: string | undefined): SafeHtml {
  if (!fp) return html`—`;
  return html`<span class="mono" title="${fp}">${fp.slice(0, 16)}…</span>`;
}

// ---- Agents ----

export interface AgentRow {
  id: string;
  name: string;
  state: string;
  principal: { displayName: string; status: string } | undefined;
  backend: string;
  workingDir: string;
  instanceId: string;
  since: string | undefined;
}

export function agentsPage(chrome: PageChrome, agents: readonly AgentRow[]): SafeHtml {
  return layoutPage({
    title: "Agents",
    chrome,
    body: html`<h1>Agents</h1>${table(
      ["Name", "Agent ID", "State", "Principal", "Backend", "Working dir", "Instance", "Connected since / last seen", ""],
      agents.map(
        (a) => html`<tr><td>${a.name}</td><td class="mono">${a.id}</td><td>${badge(a.state)}</td><td>${
          a.principal ? html`${a.principal.displayName} ${badge(a.principal.status)}` : "—"
        }</td><td>${a.backend}</td><td class="mono">${a.workingDir}</td><td class="mono">${a.instanceId}</td><td>${timeCell(a.since)}</td><td><a href="/admin/agents/${encodeURIComponent(a.id)}">Details</a></td></tr>`,
      ),
      "No agents have connected yet.",
    )}`,
  });
}

export interface AgentDetail {
  id: string;
  name: string;
  state: string;
  fields: ReadonlyArray<readonly [string, HtmlValue]>;
  tools: ReadonlyArray<{ name: string; description: string }>;
  principal: { id: string; type: string; status: string } | undefined;
  usage: { input: number; output: number; thinking: number; total: number; requests: number };
  events: ReadonlyArray<{ timestamp: string; direction: string; author: string; type: string; text: string }>;
  threads: ReadonlyArray<{ id: string; updatedAt: string }>;
}

export function agentDetailPage(chrome: PageChrome, a: AgentDetail): SafeHtml {
  const base = `/admin/agents/${encodeURIComponent(a.id)}`;
  return layoutPage({
    title: a.name,
    chrome,
    body: html`<h1>${a.name} ${badge(a.state)}</h1>
<p><a class="button" href="/?agent=${encodeURIComponent(a.id)}">Open chat</a>
${actionForm({ action: `${base}/approve`, csrfToken: chrome.csrfToken, label: "Approve" })}
${actionForm({ action: `${base}/revoke`, csrfToken: chrome.csrfToken, label: "Revoke", className: "small danger", confirm: "Revoke this agent's principal?" })}</p>
<table>${a.fields.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table>
<h2>Principal</h2>${a.principal ? html`<p class="mono">${a.principal.id} · ${a.principal.type} · ${badge(a.principal.status)}</p>` : html`<p class="empty">No principal known.</p>`}
<h2>Usage</h2><p>input ${a.usage.input} · output ${a.usage.output} · thinking ${a.usage.thinking} · total ${a.usage.total} · requests ${a.usage.requests}</p>
<h2>Tools</h2>${table(["Name", "Description"], a.tools.map((t) => html`<tr><td class="mono">${t.name}</td><td>${t.description}</td></tr>`), "No tools available.")}
<h2>Recent events</h2>${table(
      ["Time", "Direction", "Author", "Type", "Text"],
      a.events.map((e) => html`<tr><td>${timeCell(e.timestamp)}</td><td>${e.direction}</td><td>${e.author}</td><td>${e.type}</td><td>${e.text.length > 200 ? `${e.text.slice(0, 200)}…` : e.text}</td></tr>`),
      "No events yet.",
    )}
<h2>Threads</h2>${table(["Thread", "Updated"], a.threads.map((t) => html`<tr><td><a href="/admin/threads/${encodeURIComponent(t.id)}" class="mono">${t.id}</a></td><td>${timeCell(t.updatedAt)}</td></tr>`), "No threads.")}`,
  });
}

// ---- Threads ----

export interface ThreadRow {
  id: string;
  frontend: string;
  externalId: string;
  agentId: string;
  createdAt: string;
  updatedAt: string;
  messages: number;
}

export function threadsPage(chrome: PageChrome, threads: readonly ThreadRow[]): SafeHtml {
  return layoutPage({
    title: "Threads",
    chrome,
    body: html`<h1>Threads</h1>${table(
      ["ID", "Frontend", "External ID", "Agent", "Created", "Updated", "Messages"],
      threads.map(
        (t) => html`<tr><td><a class="mono" href="/admin/threads/${encodeURIComponent(t.id)}">${t.id}</a></td><td>${t.frontend}</td><td class="mono">${t.externalId}</td><td class="mono">${t.agentId}</td><td>${timeCell(t.createdAt)}</td><td>${timeCell(t.updatedAt)}</td><td>${t.messages}</td></tr>`,
      ),
      "No threads yet.",
    )}`,
  });
}

export function threadDetailPage(
  chrome: PageChrome,
  thread: ThreadRow,
  events: ReadonlyArray<{ timestamp: string; direction: string; author: string; type: string; text: string }>,
  usage: ReadonlyArray<{ createdAt: string; input: number; output: number; thinking: number }>,
): SafeHtml {
  const body = (e: (typeof events)[number]): SafeHtml => {
    if (e.type === "tool_call" || e.type === "tool_result") return html`<details><summary>${e.type}</summary><pre>${pretty(e.text)}</pre></details>`;
    if (e.type === "error") return html`<span class="badge badge-error">${e.text}</span>`;
    if (e.type === "message") return html`<div class="markdown-text" data-markdown data-testid="thread-message">${e.text}</div>`;
    return html`<div class="markdown-text">${e.text}</div>`;
  };
  const total = usage.reduce((a, u) => a + u.input + u.output + u.thinking, 0);
  return layoutPage({
    title: "Thread",
    chrome,
    scripts: ["/static/markdown.js"],
    body: html`<h1>Thread <span class="mono">${thread.id}</span></h1>
<p>${thread.frontend} · <span class="mono">${thread.externalId}</span> · agent <span class="mono">${thread.agentId}</span> · created ${timeCell(thread.createdAt)}</p>
${table(["Time", "Direction", "Author", "Type", ""], events.map((e) => html`<tr><td>${timeCell(e.timestamp)}</td><td>${e.direction}</td><td>${e.author}</td><td>${e.type}</td><td>${body(e)}</td></tr>`), "No events in this thread.")}
<h2>Usage</h2>${table(["Time", "Input", "Output", "Thinking"], usage.map((u) => html`<tr><td>${timeCell(u.createdAt)}</td><td>${u.input}</td><td>${u.output}</td><td>${u.thinking}</td></tr>`), "No usage recorded.")}
<p>Total tokens: ${total}</p>`,
  });
}

// ---- Principals ----

export interface PrincipalRow {
  id: string;
  displayName: string;
  type: string;
  status: string;
  fingerprint: string | undefined;
  roles: readonly string[];
  createdAt: string;
  lastSeen: string | undefined;
}

export function principalsPage(chrome: PageChrome, data: { principals: readonly PrincipalRow[]; type: string; status: string; form?: Record<string, string> }): SafeHtml {
  const opt = (value: string, current: string, label = value || "any") => html`<option value="${value}"${value === current ? html` selected` : ""}>${label}</option>`;
  const f = data.form ?? {};
  return layoutPage({
    title: "Principals",
    chrome,
    body: html`<h1>Principals</h1>
<form method="get" action="/admin/principals" class="form-grid">
<label>Type <select name="type">${["", "client", "agent", "pack"].map((v) => opt(v, data.type))}</select></label>
<label>Status <select name="status">${["", "pending", "approved", "online", "offline", "revoked"].map((v) => opt(v, data.status))}</select></label>
<button type="submit" class="secondary">Filter</button></form>
${table(
      ["Name", "ID", "Type", "Status", "Fingerprint", "Roles", "Created", "Last seen", ""],
      data.principals.map((p) => {
        const base = `/admin/principals/${encodeURIComponent(p.id)}`;
        return html`<tr data-principal-id="${p.id}"><td>${p.displayName}</td><td class="mono">${p.id}</td><td>${p.type}</td><td>${badge(p.status)}</td><td>${fingerprint(p.fingerprint)}</td><td>${p.roles.map((r) => html`<span class="chip">${r}</span>`)}</td><td>${timeCell(p.createdAt)}</td><td>${timeCell(p.lastSeen)}</td><td>${
          p.status === "pending" || p.status === "revoked" ? actionForm({ action: `${base}/approve`, csrfToken: chrome.csrfToken, label: "Approve", testId: "principal-approve" }) : ""
        }${p.status !== "revoked" ? actionForm({ action: `${base}/revoke`, csrfToken: chrome.csrfToken, label: "Revoke", className: "small secondary", testId: "principal-revoke" }) : ""}${actionForm({
          action: `${base}/delete`,
          csrfToken: chrome.csrfToken,
          label: "Delete",
          className: "small danger",
          confirm: `Delete ${p.displayName}?`,
        })}</td></tr>`;
      }),
      "No principals match.",
    )}
<h2>Create a principal</h2>
<form method="post" action="/admin/principals" class="form-grid">${csrfField(chrome.csrfToken)}
<label>Type <select name="type"><option value="client">client</option><option value="agent"${f.type === "agent" ? html` selected` : ""}>agent</option></select></label>
<label>Display name <input name="display_name" value="${f.display_name ?? ""}"></label>
<label>Public key <input name="pubkey" placeholder="ssh-ed25519 AAAA…" value="${f.pubkey ?? ""}"></label>
<label>or fingerprint <input name="pubkey_fp" placeholder="64 hex" value="${f.pubkey_fp ?? ""}"></label>
${["owner", "admin", "member"].map((r) => html`<label class="check"><input type="checkbox" name="roles" value="${r}"> ${r}</label>`)}
<button type="submit">Create</button></form>`,
  });
}

// ---- Bindings ----

export interface BindingRow {
  id: string;
  frontend: string;
  channelId: string;
  agentName: string;
  agentId: string;
  workingDir: string;
  isOnline: boolean;
  createdAt: string;
  createdBy: string;
}

export function bindingsPage(
  chrome: PageChrome,
  data: { bindings: readonly BindingRow[]; agentPrincipals: ReadonlyArray<{ id: string; name: string }>; workingDirs: readonly string[]; form?: Record<string, string> },
): SafeHtml {
  const f = data.form ?? {};
  const agentSelect = (name: string, current: string) =>
    html`<select name="${name}">${data.agentPrincipals.map((a) => html`<option value="${a.id}"${a.id === current ? html` selected` : ""}>${a.name} (${a.id})</option>`)}</select>`;
  return layoutPage({
    title: "Bindings",
    chrome,
    body: html`<h1>Bindings</h1>${table(
      ["ID", "Frontend", "Channel", "Agent", "Working dir", "Online", "Created", "Created by", ""],
      data.bindings.map(
        (b) => html`<tr data-binding-id="${b.id}"><td class="mono">${b.id}</td><td>${b.frontend}</td><td class="mono">${b.channelId}</td><td>${b.agentName} <span class="mono muted">${b.agentId}</span></td><td>${b.workingDir || "—"}</td><td>${b.isOnline ? badge("online") : badge("offline")}</td><td>${timeCell(b.createdAt)}</td><td class="mono">${b.createdBy}</td><td>
<form method="post" action="/admin/bindings/${encodeURIComponent(b.id)}" class="inline">${csrfField(chrome.csrfToken)}${agentSelect("agent_id", b.agentId)}<button type="submit" class="small secondary">Change agent</button></form>
${actionForm({ action: `/admin/bindings/${encodeURIComponent(b.id)}/delete`, csrfToken: chrome.csrfToken, label: "Delete", className: "small danger", confirm: "Delete this binding?", testId: "binding-delete" })}</td></tr>`,
      ),
      "No bindings yet.",
    )}
<h2>Create a binding</h2>
<form method="post" action="/admin/bindings" class="form-grid" data-testid="binding-form">${csrfField(chrome.csrfToken)}
<label>Frontend <input name="frontend" value="${f.frontend ?? ""}"></label>
<label>Channel ID <input name="channel_id" value="${f.channel_id ?? ""}"></label>
<label>Agent ${agentSelect("agent_id", f.agent_id ?? "")}</label>
<label>Working dir <input name="working_dir" list="working-dirs" value="${f.working_dir ?? ""}"></label>
<datalist id="working-dirs">${data.workingDirs.map((d) => html`<option value="${d}">`)}</datalist>
<button type="submit">Create</button></form>`,
  });
}

// ---- Tokens ----

export function tokensPage(
  chrome: PageChrome,
  data: {
    isAuthEnabled: boolean;
    principals: ReadonlyArray<{ id: string; name: string }>;
    issued?: { token: string; expiresAt: string } | undefined;
    recent: ReadonlyArray<{ principal: string; expiresAt: string; issuer: string; ts: string }>;
    form?: Record<string, string>;
  },
): SafeHtml {
  const disabled = data.isAuthEnabled ? "" : html` disabled`;
  return layoutPage({
    title: "Tokens",
    chrome,
    body: html`<h1>Tokens</h1>
${data.isAuthEnabled ? "" : html`<p class="notice" data-testid="auth-disabled">token generation not configured (no jwt_secret) — auth is disabled (no jwt_secret configured)</p>`}
<form method="post" action="/admin/tokens" class="form-grid" data-testid="token-form">${csrfField(chrome.csrfToken)}
<label>Principal <select name="principal_id"${disabled}>${data.principals.map((p) => html`<option value="${p.id}"${p.id === data.form?.principal_id ? html` selected` : ""}>${p.name} (${p.id})</option>`)}</select></label>
<label>TTL (days) <input name="ttl_days" type="number" min="1" max="365" value="${data.form?.ttl_days ?? "30"}"${disabled}></label>
<button type="submit"${disabled}>Issue token</button></form>
${
  data.issued
    ? html`<div class="card"><p>Save this token — it won't be shown again:</p><div class="secret-box"><code data-testid="token-value" id="token-value">${data.issued.token}</code> <button type="button" class="secondary" data-copy-target="token-value">Copy</button></div><p>Expires at <span data-testid="token-expires">${data.issued.expiresAt}</span></p></div>`
    : ""
}
<h2>Recently issued</h2>${table(
      ["Principal", "Expires", "Issued by", "When"],
      data.recent.map((r) => html`<tr><td class="mono">${r.principal}</td><td>${r.expiresAt}</td><td class="mono">${r.issuer}</td><td>${timeCell(r.ts)}</td></tr>`),
      "No tokens issued yet.",
    )}`,
  });
}

// ---- Secrets ----

export function secretsPage(
  chrome: PageChrome,
  data: { secrets: ReadonlyArray<{ id: string; key: string; agentId: string | undefined; updatedAt: string }>; agentIds: readonly string[]; form?: Record<string, string> },
): SafeHtml {
  return layoutPage({
    title: "Secrets",
    chrome,
    body: html`<h1>Secrets</h1>${table(
      ["Key", "Scope", "Value", "Updated", ""],
      data.secrets.map(
        (s) => html`<tr data-secret-id="${s.id}"><td class="mono">${s.key}</td><td>${s.agentId ?? "Global"}</td><td><code id="secret-${s.id}" data-testid="secret-value">••••••••</code> <button type="button" class="small secondary" data-testid="secret-reveal" data-reveal-url="/admin/secrets/${encodeURIComponent(s.id)}/value" data-reveal-target="secret-${s.id}">Reveal</button></td><td>${timeCell(s.updatedAt)}</td><td>
<form method="post" action="/admin/secrets/${encodeURIComponent(s.id)}" class="inline">${csrfField(chrome.csrfToken)}<input name="value" type="password" placeholder="new value" data-testid="secret-new-value"><button type="submit" class="small secondary" data-testid="secret-update">Update</button></form>
${actionForm({ action: `/admin/secrets/${encodeURIComponent(s.id)}/delete`, csrfToken: chrome.csrfToken, label: "Delete", className: "small danger", confirm: "Delete this secret?", testId: "secret-delete" })}</td></tr>`,
      ),
      "No secrets yet.",
    )}
<h2>Create a secret</h2>
<form method="post" action="/admin/secrets" class="form-grid" data-testid="secret-form">${csrfField(chrome.csrfToken)}
<label>Key <input name="key" value="${data.form?.key ?? ""}"></label>
<label>Value <input name="value" type="password"></label>
<label>Agent (empty = global) <input name="agent_id" list="agent-ids" value="${data.form?.agent_id ?? ""}"></label>
<datalist id="agent-ids">${data.agentIds.map((id) => html`<option value="${id}">`)}</datalist>
<button type="submit">Create</button></form>`,
  });
}

// ---- Usage ----

export interface UsageTotalsView {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  thinking: number;
  total: number;
  requests: number;
}

/** A cost in millionths of the currency unit as a decimal: at least two places, more only when they are not 0. */
export function formatCost(micros: number): string {
  const exact = (micros / 1_000_000).toFixed(6).replace(/0+$/, "");
  const [whole, fraction = ""] = exact.split(".");
  return `${whole}.${fraction.padEnd(2, "0")}`;
}

export function usagePage(
  chrome: PageChrome,
  data: {
    since: string;
    until: string;
    totals: UsageTotalsView & { costMicros: number };
    byAgent: ReadonlyArray<{ agentId: string; costMicros: number } & UsageTotalsView>;
    daily: readonly DailyTokens[];
    /** `costs.currency` (ops.md §4.3): costs are shown beside tokens. */
    currency: string;
  },
): SafeHtml {
  const row = (t: UsageTotalsView & { costMicros: number }) =>
    html`<td>${t.input}</td><td>${t.output}</td><td>${t.cacheRead}</td><td>${t.cacheWrite}</td><td>${t.thinking}</td><td>${t.total}</td><td>${t.requests}</td><td data-testid="cost">${formatCost(t.costMicros)}</td>`;
  const costHeader = `Cost (${data.currency})`;
  return layoutPage({
    title: "Usage",
    chrome,
    body: html`<h1>Usage</h1>
<form method="get" action="/admin/usage" class="form-grid">
<label>Since <input type="date" name="since" value="${data.since}"></label>
<label>Until (exclusive) <input type="date" name="until" value="${data.until}"></label>
<button type="submit" class="secondary">Apply</button></form>
<table data-testid="usage-totals"><tr><th>Input</th><th>Output</th><th>Cache read</th><th>Cache write</th><th>Thinking</th><th>Total</th><th>Requests</th><th>${costHeader}</th></tr><tr>${row(data.totals)}</tr></table>
${usageChart(data.daily)}
<h2>Per agent</h2>${table(
      ["Agent", "Input", "Output", "Cache read", "Cache write", "Thinking", "Total", "Requests", costHeader],
      data.byAgent.map((a) => html`<tr><td class="mono">${a.agentId}</td>${row(a)}</tr>`),
      "No usage recorded in this range.",
    )}`,
  });
}

// ---- Tools ----

export function toolsPage(
  chrome: PageChrome,
  packs: ReadonlyArray<{ id: string; version: string; tools: ReadonlyArray<{ name: string; description: string; capabilities: readonly string[]; timeout: string; schema: string }> }>,
): SafeHtml {
  return layoutPage({
    title: "Tools",
    chrome,
    body: html`<h1>Tools</h1>${
      packs.length === 0
        ? html`<p class="empty">No packs are registered.</p>`
        : packs.map(
            (p) => html`<section class="card" data-pack-id="${p.id}"><h2 class="mono">${p.id} <span class="muted">${p.version}</span></h2>${table(
              ["Tool", "Description", "Capabilities", "Timeout", "Input schema"],
              p.tools.map(
                (t) => html`<tr><td class="mono">${t.name}</td><td>${t.description}</td><td>${t.capabilities.map((c) => html`<span class="chip">${c}</span>`)}</td><td>${t.timeout}</td><td><details><summary>schema</summary><pre>${pretty(t.schema)}</pre></details></td></tr>`,
              ),
              "No tools.",
            )}</section>`,
          )
    }`,
  });
}

// ---- Device links ----

export function linkPage(
  chrome: PageChrome,
  data: { isAuthEnabled: boolean; codes: ReadonlyArray<{ id: string; code: string; deviceName: string; fingerprint: string; createdAt: string; expiresAt: string }>; extra?: HtmlValue },
): SafeHtml {
  return layoutPage({
    title: "Device Links",
    chrome,
    scripts: ["/static/pair-device.js"],
    body: html`<h1>Device Links</h1>
${data.isAuthEnabled ? "" : html`<p class="notice" data-testid="auth-disabled">Server not configured for link approval — auth is disabled (no jwt_secret configured)</p>`}
${table(
      ["Code", "Device", "Fingerprint", "Created", "Expires", ""],
      data.codes.map(
        (c) => html`<tr data-link-code="${c.code}"><td class="code-big">${c.code}</td><td>${c.deviceName}</td><td>${fingerprint(c.fingerprint)}</td><td>${timeCell(c.createdAt)}</td><td>${countdown(c.expiresAt)}</td><td><form method="post" action="/admin/link/${encodeURIComponent(c.id)}/approve" class="inline">${csrfField(chrome.csrfToken)}<button type="submit" class="small" data-testid="link-approve"${data.isAuthEnabled ? "" : html` disabled`}>Approve</button></form></td></tr>`,
      ),
      "No pending device link codes.",
    )}
${data.extra ?? ""}`,
  });
}

// ---- Approvals ----

export function approvalsPage(
  chrome: PageChrome,
  data: {
    approvals: ReadonlyArray<{ agentId: string; toolName: string; inputJson: string; requestId: string; toolId: string; createdAt: string; expiresAt: string }>;
    questions: ReadonlyArray<{ agentId: string; question: string; options: readonly string[]; expiresAt: string }>;
    resolved: ReadonlyArray<{ toolName: string; agentId: string; status: string; resolvedBy: string; resolvedAt: string }>;
  },
): SafeHtml {
  const decide = (a: (typeof data.approvals)[number], decision: string, label: string, testId: string) =>
    actionForm({ action: "/admin/approvals/decide", csrfToken: chrome.csrfToken, label, fields: { agent_id: a.agentId, tool_id: a.toolId, decision }, testId, className: decision === "deny" ? "small secondary" : "small" });
  return layoutPage({
    title: "Approvals",
    chrome,
    body: html`<h1>Approvals</h1>
<h2>Pending tool approvals</h2>${table(
      ["Agent", "Tool", "Input", "Request", "Tool ID", "Requested", "Expires", ""],
      data.approvals.map(
        (a) => html`<tr data-testid="pending-approval" data-tool-id="${a.toolId}"><td><a href="/?agent=${encodeURIComponent(a.agentId)}">${a.agentId}</a></td><td>${a.toolName}</td><td><details><summary>input</summary><pre>${pretty(a.inputJson)}</pre></details></td><td class="mono">${a.requestId}</td><td class="mono">${a.toolId}</td><td>${timeCell(a.createdAt)}</td><td>${countdown(a.expiresAt)}</td><td>${decide(a, "approve", "Approve", "approve-btn")}${decide(a, "deny", "Deny", "deny-btn")}${decide(a, "approve_all", "Approve all", "approve-all-btn")}</td></tr>`,
      ),
      "No tool approvals are pending.",
    )}
<h2>Pending questions</h2>${table(
      ["Agent", "Question", "Options", "Expires", ""],
      data.questions.map((q) => html`<tr data-testid="pending-question"><td>${q.agentId}</td><td>${q.question}</td><td>${q.options.map((o) => html`<span class="chip">${o}</span>`)}</td><td>${countdown(q.expiresAt)}</td><td><a href="/?agent=${encodeURIComponent(q.agentId)}">Answer in chat</a></td></tr>`),
      "No questions are pending.",
    )}
<h2>Recently resolved</h2>${table(
      ["Tool", "Agent", "Status", "Resolved by", "When"],
      data.resolved.map((r) => html`<tr><td>${r.toolName}</td><td>${r.agentId}</td><td>${badge(r.status)}</td><td class="mono">${r.resolvedBy}</td><td>${timeCell(r.resolvedAt)}</td></tr>`),
      "Nothing resolved yet.",
    )}`,
  });
}
