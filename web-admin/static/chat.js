// ABOUTME: The chat page client (web-admin.md §6): agent sidebar with presence, the EventSource stream, escape-first
// ABOUTME: markdown, tool/approval/question cards and cancel. Builds DOM from text; raw HTML never passes through.
(function () {
  "use strict";

  var renderMarkdown = window.CovenMarkdown.render;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function pretty(json) {
    try {
      return JSON.stringify(JSON.parse(json), null, 2);
    } catch (e) {
      return String(json);
    }
  }

  var admin = window.CovenAdmin;
  var state = { agentId: null, source: null, bubbles: {}, tools: {}, approvals: {}, questions: {}, mine: [] };
  var ui = {};

  function scrollDown() {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  function append(node) {
    var nearBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
    ui.messages.appendChild(node);
    if (nearBottom) scrollDown();
  }

  function updateCancel() {
    ui.cancel.hidden = state.mine.length === 0;
  }

  function finishRequest(requestId) {
    state.mine = state.mine.filter(function (id) {
      return id !== requestId;
    });
    var bubble = state.bubbles[requestId];
    if (bubble) bubble.node.classList.remove("streaming");
    updateCancel();
  }

  function agentBubble(requestId) {
    var existing = requestId ? state.bubbles[requestId] : undefined;
    if (existing) return existing;
    var node = el("div", "bubble agent streaming");
    node.setAttribute("data-testid", "agent-message");
    if (requestId) node.setAttribute("data-request-id", requestId);
    var bubble = { node: node, text: "" };
    if (requestId) state.bubbles[requestId] = bubble;
    append(node);
    return bubble;
  }

  function renderBubble(bubble) {
    bubble.node.innerHTML = renderMarkdown(bubble.text);
  }

  function toolCard(toolId, name) {
    var card = state.tools[toolId];
    if (card) return card;
    var node = el("div", "tool-card");
    node.setAttribute("data-testid", "tool-card");
    var head = el("div", "tool-head");
    head.appendChild(el("strong", "", name || "tool"));
    var badge = el("span", "badge tool-state", "pending");
    head.appendChild(document.createTextNode(" "));
    head.appendChild(badge);
    node.appendChild(head);
    var details = el("details");
    details.appendChild(el("summary", "", "input"));
    var input = el("pre");
    details.appendChild(input);
    node.appendChild(details);
    var result = el("pre", "tool-result");
    result.hidden = true;
    node.appendChild(result);
    card = { node: node, badge: badge, input: input, result: result };
    state.tools[toolId] = card;
    append(node);
    return card;
  }

  function post(path, body) {
    return admin.request("POST", "/chat/" + encodeURIComponent(state.agentId) + path, body);
  }

  function approvalCard(data) {
    var key = data.tool_id;
    if (state.approvals[key] && !state.approvals[key].resolved) return;
    var node = el("div", "approval-card");
    node.setAttribute("data-testid", "approval-card");
    node.setAttribute("data-tool-id", data.tool_id);
    node.appendChild(el("div", "card-title", "Approve tool: " + data.tool_name));
    node.appendChild(el("pre", "", pretty(data.input_json)));
    var expires = el("time", "muted");
    expires.setAttribute("datetime", data.expires_at);
    expires.setAttribute("data-countdown", "");
    expires.textContent = admin.countdownText(data.expires_at);
    var line = el("div", "muted", "Expires in ");
    line.appendChild(expires);
    node.appendChild(line);
    var buttons = el("div", "card-buttons");
    var status = el("div", "card-status");
    var card = { node: node, buttons: buttons, status: status, resolved: false };
    [["approve", "Approve", "approve-btn"], ["deny", "Deny", "deny-btn"], ["approve_all", "Approve all", "approve-all-btn"]].forEach(function (b) {
      var button = el("button", b[0] === "deny" ? "secondary" : "", b[1]);
      button.type = "button";
      button.setAttribute("data-testid", b[2]);
      button.addEventListener("click", function () {
        setButtons(buttons, true);
        post("/approve", { tool_id: data.tool_id, decision: b[0] }).then(function (res) {
          if (res.ok) resolveApproval(key, b[0] === "deny" ? "denied" : "approved");
          else {
            status.textContent = admin.errorText(res);
            setButtons(buttons, false);
          }
        });
      });
      buttons.appendChild(button);
    });
    node.appendChild(buttons);
    node.appendChild(status);
    state.approvals[key] = card;
    append(node);
  }

  function setButtons(container, disabled) {
    container.querySelectorAll("button, input").forEach(function (b) {
      b.disabled = disabled;
    });
  }

  var STATUS_TEXT = { approved: "Approved", denied: "Denied", expired: "Expired", canceled: "Canceled", answered: "Answered" };

  function resolveApproval(key, status) {
    var card = state.approvals[key];
    if (!card || card.resolved) return;
    card.resolved = true;
    card.node.classList.add("resolved");
    card.buttons.remove();
    card.status.textContent = STATUS_TEXT[status] || status;
    card.status.setAttribute("data-testid", "approval-status");
  }

  function questionCard(data) {
    if (state.questions[data.question_id]) return;
    var node = el("div", "question-card");
    node.setAttribute("data-testid", "question-card");
    node.setAttribute("data-question-id", data.question_id);
    if (data.header) node.appendChild(el("div", "card-title", data.header));
    node.appendChild(el("div", "question-text", data.question));
    var form = el("form", "question-form");
    var type = data.multi_select ? "checkbox" : "radio";
    data.options.forEach(function (option) {
      var label = el("label", "check");
      label.setAttribute("data-testid", "question-option");
      var input = el("input");
      input.type = type;
      input.name = "selected";
      input.value = option.label;
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + option.label));
      if (option.description) label.appendChild(el("span", "muted", " — " + option.description));
      form.appendChild(label);
    });
    var custom = el("input");
    custom.type = "text";
    custom.placeholder = "Other";
    custom.setAttribute("data-testid", "question-custom");
    form.appendChild(custom);
    var submit = el("button", "", "Submit");
    submit.type = "submit";
    submit.setAttribute("data-testid", "question-submit");
    form.appendChild(submit);
    var status = el("div", "card-status");
    var expires = el("time", "muted");
    expires.setAttribute("datetime", data.expires_at);
    expires.setAttribute("data-countdown", "");
    expires.textContent = admin.countdownText(data.expires_at);
    var card = { node: node, form: form, status: status, resolved: false, chosen: null };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var selected = [];
      form.querySelectorAll("input[name=selected]").forEach(function (i) {
        if (i.checked) selected.push(i.value);
      });
      setButtons(form, true);
      post("/answer", { question_id: data.question_id, selected: selected, custom_text: custom.value }).then(function (res) {
        if (res.ok) {
          card.chosen = selected.concat(custom.value ? [custom.value] : []).join(", ");
          resolveQuestion(data.question_id, "answered");
        } else {
          status.textContent = admin.errorText(res);
          setButtons(form, false);
        }
      });
    });
    node.appendChild(form);
    var line = el("div", "muted", "Expires in ");
    line.appendChild(expires);
    node.appendChild(line);
    node.appendChild(status);
    state.questions[data.question_id] = card;
    append(node);
  }

  function resolveQuestion(id, status) {
    var card = state.questions[id];
    if (!card || card.resolved) return;
    card.resolved = true;
    card.node.classList.add("resolved");
    setButtons(card.form, true);
    card.form.hidden = true;
    var text = status === "expired" ? "Timed out" : status === "canceled" ? "Canceled" : "Answered" + (card.chosen ? ": " + card.chosen : "");
    card.status.textContent = text;
    card.status.setAttribute("data-testid", "question-status");
  }

  var handlers = {
    connected: function (d) {
      ui.messages.textContent = "";
      state.bubbles = {};
      state.tools = {};
      state.approvals = {};
      state.questions = {};
      ui.state.textContent = d.state;
    },
    user: function (d) {
      var node = el("div", "bubble user", d.content);
      node.setAttribute("data-testid", "user-message");
      node.title = d.sender;
      append(node);
    },
    text: function (d) {
      var bubble = d.replay ? agentBubble(null) : agentBubble(d.request_id);
      bubble.text += d.content;
      renderBubble(bubble);
      if (d.replay) bubble.node.classList.remove("streaming");
    },
    thinking: function (d) {
      var details = el("details", "thinking");
      details.appendChild(el("summary", "", "thinking"));
      details.appendChild(el("div", "", d.content));
      append(details);
    },
    tool_use: function (d) {
      var card = toolCard(d.tool_id, d.tool_name);
      card.input.textContent = pretty(d.content);
    },
    tool_state: function (d) {
      var card = toolCard(d.tool_id, "");
      card.badge.textContent = d.state;
      card.badge.className = "badge tool-state badge-" + d.state;
    },
    tool_result: function (d) {
      var card = toolCard(d.tool_id, "");
      card.result.hidden = false;
      card.result.textContent = d.content;
      if (d.is_error) card.result.classList.add("error");
    },
    tool_approval: approvalCard,
    approval_resolved: function (d) {
      resolveApproval(d.tool_id, d.status);
    },
    user_question: questionCard,
    question_resolved: function (d) {
      resolveQuestion(d.question_id, d.status);
    },
    file: function (d) {
      append(el("div", "bubble system", "File: " + d.filename + " (" + d.mime_type + ")"));
    },
    system: function (d) {
      append(el("div", "bubble system", d.content));
    },
    usage: function () {},
    done: function (d) {
      var bubble = state.bubbles[d.request_id];
      if (bubble && bubble.text === "" && d.content) {
        bubble.text = d.content;
        renderBubble(bubble);
      }
      finishRequest(d.request_id);
    },
    error: function (d) {
      var node = el("div", "bubble error", d.content);
      node.setAttribute("data-testid", "chat-error");
      append(node);
      if (d.request_id) finishRequest(d.request_id);
    },
    canceled: function (d) {
      var node = el("div", "bubble system", "Canceled" + (d.reason ? ": " + d.reason : ""));
      node.setAttribute("data-testid", "chat-canceled");
      append(node);
      finishRequest(d.request_id);
    },
    history_end: function () {
      scrollDown();
    },
  };

  function select(agentId, name) {
    if (state.source) state.source.close();
    state.agentId = agentId;
    state.mine = [];
    updateCancel();
    ui.empty.hidden = true;
    ui.conversation.hidden = false;
    ui.title.textContent = name || agentId;
    ui.messages.textContent = "";
    document.querySelectorAll(".agent-link").forEach(function (a) {
      a.classList.toggle("selected", a.getAttribute("data-agent-id") === agentId);
    });
    var source = new EventSource("/chat/" + encodeURIComponent(agentId) + "/stream");
    Object.keys(handlers).forEach(function (type) {
      source.addEventListener(type, function (event) {
        if (state.source !== source) return;
        var data;
        try {
          data = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        handlers[type](data);
      });
    });
    state.source = source;
    ui.input.focus();
  }

  function renderAgents(agents) {
    ui.list.textContent = "";
    agents.forEach(function (a) {
      var li = el("li");
      var link = el("a", "agent-link" + (a.id === state.agentId ? " selected" : ""));
      link.href = "/?agent=" + encodeURIComponent(a.id);
      link.setAttribute("data-agent-id", a.id);
      link.appendChild(el("span", "dot state-" + a.state));
      link.appendChild(el("span", "agent-name", a.name));
      li.appendChild(link);
      ui.list.appendChild(li);
    });
    var empty = document.querySelector("[data-empty-agents]");
    if (empty) empty.hidden = agents.length > 0;
  }

  function refreshAgents() {
    admin.request("GET", "/api/admin/agents").then(function (res) {
      if (res.ok && Array.isArray(res.body)) renderAgents(res.body);
    });
  }

  function send() {
    var text = ui.input.value;
    if (!state.agentId || text.trim() === "") return;
    ui.send.disabled = true;
    var body = new URLSearchParams({ message: text });
    fetch("/chat/" + encodeURIComponent(state.agentId) + "/send", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": admin.csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    })
      .then(function (res) {
        return res.text().then(function (t) {
          if (!res.ok) throw new Error(t.trim() || "Failed to send message");
          var data = JSON.parse(t);
          state.mine.push(data.request_id);
          updateCancel();
          ui.input.value = "";
        });
      })
      .catch(function (err) {
        var node = el("div", "bubble error", err.message);
        node.setAttribute("data-testid", "chat-error");
        append(node);
      })
      .then(function () {
        ui.send.disabled = false;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    ui.list = document.querySelector('[data-testid="agent-list"]');
    ui.messages = document.querySelector('[data-testid="chat-messages"]');
    ui.input = document.querySelector('[data-testid="chat-input"]');
    ui.send = document.querySelector('[data-testid="chat-send"]');
    ui.cancel = document.querySelector('[data-testid="chat-cancel"]');
    ui.empty = document.querySelector("[data-chat-empty]");
    ui.conversation = document.querySelector("[data-chat-conversation]");
    ui.title = document.querySelector("[data-chat-title]");
    ui.state = document.querySelector("[data-chat-state]");
    if (!ui.list || !ui.messages) return;
    var data = JSON.parse(document.getElementById("chat-data").textContent || "{}");
    ui.list.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest(".agent-link") : null;
      if (!link) return;
      event.preventDefault();
      var id = link.getAttribute("data-agent-id");
      history.replaceState(null, "", "/?agent=" + encodeURIComponent(id));
      select(id, link.textContent);
    });
    document.querySelector("[data-chat-form]").addEventListener("submit", function (event) {
      event.preventDefault();
      send();
    });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        send();
      }
    });
    ui.cancel.addEventListener("click", function () {
      if (!state.agentId) return;
      var requestId = state.mine[state.mine.length - 1];
      post("/cancel", requestId ? { request_id: requestId } : {});
    });
    setInterval(refreshAgents, 10000);
    if (data.selected) {
      var known = (data.agents || []).filter(function (a) {
        return a.id === data.selected;
      })[0];
      select(data.selected, known ? known.name : data.selected);
    }
    window.addEventListener("pagehide", function () {
      if (state.source) state.source.close();
    });
  });

  window.CovenChat = { renderMarkdown: renderMarkdown };
})();
