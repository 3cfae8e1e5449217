// ABOUTME: The page shells of the web admin: the signed-in layout (header, sidebar, banners) and the bare
// ABOUTME: shell of login, setup and invite. Scripts are same-origin files only; the CSRF token sits in a meta tag.
import { html, type HtmlValue, type SafeHtml } from "./html.js";

/** What every signed-in page knows about the request. */
export interface PageChrome {
  csrfToken: string;
  displayName: string;
  version: string;
  /** The sidebar entry to highlight, by its href. */
  active: string;
  pendingApprovals: number;
  /** One-shot notice text (from `?notice=`), shown as a banner. */
  notice?: string | undefined;
  /** An error text shown in `[data-testid=form-error]`. */
  error?: string | undefined;
}

const ADMIN_NAV: ReadonlyArray<readonly [string, string]> = [
  ["/admin/", "Dashboard"],
  ["/admin/agents", "Agents"],
  ["/admin/threads", "Threads"],
  ["/admin/principals", "Principals"],
  ["/admin/bindings", "Bindings"],
  ["/admin/tokens", "Tokens"],
  ["/admin/secrets", "Secrets"],
  ["/admin/tools", "Tools"],
  ["/admin/usage", "Usage"],
  ["/admin/link", "Device Links"],
  ["/admin/approvals", "Approvals"],
];

const ACTIVITY_NAV: ReadonlyArray<readonly [string, string]> = [
  ["/admin/logs", "Activity Logs"],
  ["/admin/todos", "Todos"],
  ["/admin/board", "Discussion Board"],
];

function head(title: string, csrfToken: string, scripts: readonly string[]): SafeHtml {
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${csrfToken}">
<title>${title} · coven</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
${scripts.map((src) => html`<script src="${src}" defer></script>\n`)}</head>`;
}

/** The notice banner and the form error, when present. */
export function banners(notice: string | undefined, error: string | undefined): SafeHtml {
  return html`${notice ? html`<div class="notice" data-testid="notice" role="status">${notice}</div>` : ""}${
    error ? html`<div class="form-error" data-testid="form-error" role="alert">${error}</div>` : ""
  }`;
}

function navLink(href: string, label: string, chrome: PageChrome): SafeHtml {
  const badge =
    href === "/admin/approvals" && chrome.pendingApprovals > 0
      ? html` <span class="badge" data-testid="approvals-badge">${chrome.pendingApprovals}</span>`
      : "";
  return html`<li><a href="${href}"${chrome.active === href ? html` class="active" aria-current="page"` : ""}>${label}</a>${badge}</li>`;
}

/** A signed-in page: header with sign-out form and connection badge, the sidebar, banners, then `body`. */
export function layoutPage(options: { title: string; chrome: PageChrome; body: HtmlValue; scripts?: readonly string[]; mainClass?: string }): SafeHtml {
  const { chrome } = options;
  return html`<!doctype html>
<html lang="en">
${head(options.title, chrome.csrfToken, options.scripts ?? [])}
<body>
<header class="topbar">
  <a class="brand" href="/admin/">Coven / Control Plane</a>
  <span class="spacer"></span>
  <span class="connection-badge" data-testid="connection-badge" data-state="connecting" title="Connection to the gateway">connecting</span>
  <span class="user-name" data-testid="user-name">${chrome.displayName}</span>
  <form method="post" action="/logout" data-testid="logout-form" class="inline">
    <input type="hidden" name="csrf_token" value="${chrome.csrfToken}">
    <button type="submit" class="link-button">Sign out</button>
  </form>
</header>
<div class="shell">
<nav class="sidebar">
  <ul>${navLink("/", "Chat", chrome)}</ul>
  <h3>Admin</h3>
  <ul>${ADMIN_NAV.map(([href, label]) => navLink(href, label, chrome))}</ul>
  <h3>Activity</h3>
  <ul>${ACTIVITY_NAV.map(([href, label]) => navLink(href, label, chrome))}</ul>
  <footer class="version">coven-gateway v${chrome.version}</footer>
</nav>
<main class="${options.mainClass ?? "content"}">
${banners(chrome.notice, chrome.error)}
${options.body}
</main>
</div>
</body>
</html>
`;
}

/** The bare shell (login, setup, setup complete, invite): no header or sidebar. */
export function barePage(options: { title: string; csrfToken: string; body: HtmlValue; scripts?: readonly string[] }): SafeHtml {
  return html`<!doctype html>
<html lang="en">
${head(options.title, options.csrfToken, options.scripts ?? [])}
<body class="bare">
<main class="card narrow">
${options.body}
</main>
</body>
</html>
`;
}

/** A signed-in 404 page whose heading is `text` (e.g. `Thread not found`). */
export function notFoundPage(chrome: PageChrome, text: string): SafeHtml {
  return layoutPage({ title: text, chrome, body: html`<h1 data-testid="not-found">${text}</h1>` });
}
