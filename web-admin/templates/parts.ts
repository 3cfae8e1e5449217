// ABOUTME: Small shared template pieces: times (local in the browser, UTC ISO in the title), badges, empty rows,
// ABOUTME: the CSRF hidden field and a one-button POST form.
import { html, type HtmlValue, type SafeHtml } from "./html.js";

/** A time element: app.js rewrites the text to local time; the title keeps the UTC ISO string. */
export function timeCell(iso: string | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso}" title="${iso}" data-local-time>${iso}</time>`;
}

/** A countdown to `iso`, kept live by app.js. */
export function countdown(iso: string | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso}" title="${iso}" data-countdown>${iso}</time>`;
}

export function badge(text: string, kind: string = text): SafeHtml {
  return html`<span class="badge badge-${kind}">${text}</span>`;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf_token" value="${token}">`;
}

/** A POST form with one submit button; `confirm` makes app.js ask first. */
export function actionForm(options: {
  action: string;
  csrfToken: string;
  label: string;
  fields?: Record<string, string>;
  confirm?: string;
  className?: string;
  testId?: string;
}): SafeHtml {
  return html`<form method="post" action="${options.action}" class="inline"${options.confirm ? html` data-confirm="${options.confirm}"` : ""}>${csrfField(options.csrfToken)}${Object.entries(
    options.fields ?? {},
  ).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit" class="${options.className ?? "small"}"${
    options.testId ? html` data-testid="${options.testId}"` : ""
  }>${options.label}</button></form>`;
}

/** A table, or its empty-state sentence. */
export function table(headers: readonly string[], rows: readonly HtmlValue[], empty: string): SafeHtml {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<table><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table>`;
}
