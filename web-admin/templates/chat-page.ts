// ABOUTME: The chat page shell (web-admin.md §6.1): the agent sidebar and the conversation area that chat.js
// ABOUTME: drives; the server renders the initial agent list and passes the preselected agent as data.
import { html, jsonScript, type SafeHtml } from "./html.js";
import { layoutPage, type PageChrome } from "./layout.js";

export interface ChatPageData {
  agents: ReadonlyArray<{ id: string; name: string; state: string }>;
  selected: string | undefined;
  username: string;
}

export function chatPage(chrome: PageChrome, data: ChatPageData): SafeHtml {
  return layoutPage({
    title: "Chat",
    chrome,
    mainClass: "content chat-main",
    scripts: ["/static/markdown.js", "/static/chat.js"],
    body: html`<div class="chat-app" data-testid="chat-app">
<aside class="chat-sidebar" data-testid="chat-sidebar">
  <h2>Agents</h2>
  <ul class="agent-list" data-testid="agent-list">${data.agents.map(
    (a) => html`<li><a href="/?agent=${encodeURIComponent(a.id)}" data-agent-id="${a.id}" class="agent-link${data.selected === a.id ? " selected" : ""}"><span class="dot state-${a.state}"></span><span class="agent-name">${a.name}</span></a></li>`,
  )}</ul>
  ${data.agents.length === 0 ? html`<p class="empty" data-empty-agents>No agents are connected.</p>` : ""}
</aside>
<section class="chat-pane" data-chat-pane>
  <div class="chat-empty" data-chat-empty${data.selected ? html` hidden` : ""}>Select an agent to start chatting</div>
  <div class="chat-conversation" data-chat-conversation${data.selected ? "" : html` hidden`}>
    <div class="chat-header"><span data-chat-title></span> <span class="muted" data-chat-state></span></div>
    <div class="chat-messages" data-testid="chat-messages" aria-live="polite"></div>
    <form class="chat-form" data-chat-form>
      <textarea data-testid="chat-input" name="message" rows="3" placeholder="Message (Enter sends, Shift+Enter for a new line)"></textarea>
      <div class="chat-buttons">
        <button type="button" data-testid="chat-cancel" class="secondary" hidden>Cancel</button>
        <button type="submit" data-testid="chat-send">Send</button>
      </div>
    </form>
  </div>
</section>
</div>
${jsonScript("chat-data", { selected: data.selected ?? null, username: data.username, agents: data.agents })}`,
  });
}
