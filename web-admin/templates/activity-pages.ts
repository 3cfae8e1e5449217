// ABOUTME: Templates of the builtin-pack data pages (web-admin.md §5.11-5.13): activity logs with a search form,
// ABOUTME: todos, and the discussion board list and thread. Plain data in, escaped markup out.
import { html, type SafeHtml } from "./html.js";
import { layoutPage, type PageChrome } from "./layout.js";
import { badge, table, timeCell } from "./parts.js";

export interface LogRow {
  agentId: string;
  message: string;
  tags: readonly string[];
  createdAt: string;
}

export function logsPage(chrome: PageChrome, data: { q: string; limit: number; entries: readonly LogRow[] }): SafeHtml {
  return layoutPage({
    title: "Activity Logs",
    chrome,
    body: html`<h1>Activity Logs</h1>
<form method="get" action="/admin/logs" class="filters" data-testid="logs-filter">
  <label>Search <input type="search" name="q" value="${data.q}"></label>
  <label>Limit <input type="number" name="limit" min="1" max="500" value="${data.limit}"></label>
  <button type="submit" class="small">Filter</button>
</form>
<div data-testid="log-list">${table(
      ["Time", "Agent", "Message", "Tags"],
      data.entries.map(
        (e) => html`<tr data-testid="log-row"><td>${timeCell(e.createdAt)}</td><td class="mono">${e.agentId}</td><td>${e.message}</td><td>${e.tags.map(
          (t) => html`<span class="chip">${t}</span> `,
        )}</td></tr>`,
      ),
      data.q ? "No log entries match." : "No log entries yet.",
    )}</div>`,
  });
}

export interface TodoRowView {
  agentId: string;
  description: string;
  status: string;
  priority: string;
  dueDate: string | undefined;
  notes: string | undefined;
  updatedAt: string;
}

export function todosPage(chrome: PageChrome, data: { limit: number; todos: readonly TodoRowView[] }): SafeHtml {
  return layoutPage({
    title: "Todos",
    chrome,
    body: html`<h1>Todos</h1>
<form method="get" action="/admin/todos" class="filters">
  <label>Limit <input type="number" name="limit" min="1" max="500" value="${data.limit}"></label>
  <button type="submit" class="small">Show</button>
</form>
<div data-testid="todo-list">${table(
      ["Agent", "Description", "Status", "Priority", "Due", "Notes", "Updated"],
      data.todos.map(
        (t) => html`<tr data-testid="todo-row"><td class="mono">${t.agentId}</td><td>${t.description}</td><td>${badge(t.status)}</td><td>${t.priority}</td><td>${
          t.dueDate ? timeCell(t.dueDate) : "—"
        }</td><td>${t.notes ?? ""}</td><td>${timeCell(t.updatedAt)}</td></tr>`,
      ),
      "No todos yet.",
    )}</div>`,
  });
}

export interface BoardThreadRow {
  id: string;
  subject: string;
  agentId: string;
  createdAt: string;
  replies: number;
}

export function boardPage(chrome: PageChrome, data: { limit: number; threads: readonly BoardThreadRow[] }): SafeHtml {
  return layoutPage({
    title: "Discussion Board",
    chrome,
    body: html`<h1>Discussion Board</h1>
<form method="get" action="/admin/board" class="filters">
  <label>Limit <input type="number" name="limit" min="1" max="200" value="${data.limit}"></label>
  <button type="submit" class="small">Show</button>
</form>
<div data-testid="board-list">${table(
      ["Subject", "Author", "Created", "Replies", ""],
      data.threads.map(
        (t) => html`<tr data-testid="board-row"><td>${t.subject || "(no subject)"}</td><td class="mono">${t.agentId}</td><td>${timeCell(t.createdAt)}</td><td>${t.replies}</td><td><a href="/admin/board/${encodeURIComponent(
          t.id,
        )}">Open</a></td></tr>`,
      ),
      "No discussion threads yet.",
    )}</div>`,
  });
}

export interface BoardPostView {
  agentId: string;
  subject: string;
  content: string;
  createdAt: string;
}

function postBlock(p: BoardPostView, testId: string): SafeHtml {
  return html`<article class="post" data-testid="${testId}"><header><span class="mono">${p.agentId}</span> · ${timeCell(p.createdAt)}</header><div class="post-body">${p.content}</div></article>`;
}

export function boardThreadPage(chrome: PageChrome, data: { post: BoardPostView; replies: readonly BoardPostView[] }): SafeHtml {
  return layoutPage({
    title: data.post.subject || "Discussion",
    chrome,
    body: html`<p><a href="/admin/board">← Discussion Board</a></p>
<h1>${data.post.subject || "(no subject)"}</h1>
${postBlock(data.post, "board-post")}
<h2>Replies (${data.replies.length})</h2>
${data.replies.length === 0 ? html`<p class="empty">No replies yet.</p>` : data.replies.map((r) => postBlock(r, "board-reply"))}`,
  });
}
