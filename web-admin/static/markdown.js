// ABOUTME: The web admin's one escape-first markdown renderer (web-admin.md §6.1), shared by the chat and the thread
// ABOUTME: detail page: HTML is escaped first, then a fixed subset applies; raw HTML and non-http(s) links never pass.
(function () {
  "use strict";

  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return ESC[c];
    });
  }

  /** Inline markdown on already-escaped text: code, bold, italic, http(s) links. */
  function inline(escaped) {
    var codes = [];
    var out = escaped.replace(/`([^`\n]+)`/g, function (_m, code) {
      codes.push("<code>" + code + "</code>");
      return "\u0000" + (codes.length - 1) + "\u0000";
    });
    out = out.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, function (m, label, href) {
      if (!/^https?:\/\//i.test(href)) return m;
      return '<a href="' + href + '" rel="noopener noreferrer" target="_blank">' + label + "</a>";
    });
    out = out.replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>");
    out = out.replace(/(^|[^*])\*([^*\n]+)\*/g, "$1<em>$2</em>");
    return out.replace(/\u0000(\d+)\u0000/g, function (_m, i) {
      return codes[Number(i)];
    });
  }

  /** Escape-first markdown: paragraphs, fenced code, -/1. lists, > quotes, inline marks. Returns safe HTML. */
  function renderMarkdown(source) {
    var lines = escapeHtml(source).split(/\r?\n/);
    var html = [];
    var i = 0;
    while (i < lines.length) {
      var line = lines[i];
      if (/^```/.test(line)) {
        var code = [];
        i += 1;
        while (i < lines.length && !/^```/.test(lines[i])) {
          code.push(lines[i]);
          i += 1;
        }
        i += 1;
        html.push("<pre><code>" + code.join("\n") + "</code></pre>");
        continue;
      }
      if (/^\s*[-*] /.test(line)) {
        var items = [];
        while (i < lines.length && /^\s*[-*] /.test(lines[i])) {
          items.push("<li>" + inline(lines[i].replace(/^\s*[-*] /, "")) + "</li>");
          i += 1;
        }
        html.push("<ul>" + items.join("") + "</ul>");
        continue;
      }
      if (/^\s*\d+\. /.test(line)) {
        var ordered = [];
        while (i < lines.length && /^\s*\d+\. /.test(lines[i])) {
          ordered.push("<li>" + inline(lines[i].replace(/^\s*\d+\. /, "")) + "</li>");
          i += 1;
        }
        html.push("<ol>" + ordered.join("") + "</ol>");
        continue;
      }
      if (/^&gt; ?/.test(line)) {
        var quoted = [];
        while (i < lines.length && /^&gt; ?/.test(lines[i])) {
          quoted.push(inline(lines[i].replace(/^&gt; ?/, "")));
          i += 1;
        }
        html.push("<blockquote>" + quoted.join("<br>") + "</blockquote>");
        continue;
      }
      if (line.trim() === "") {
        i += 1;
        continue;
      }
      var para = [];
      while (i < lines.length && lines[i].trim() !== "" && !/^```/.test(lines[i]) && !/^\s*[-*] /.test(lines[i]) && !/^\s*\d+\. /.test(lines[i]) && !/^&gt; ?/.test(lines[i])) {
        para.push(inline(lines[i]));
        i += 1;
      }
      html.push("<p>" + para.join("<br>") + "</p>");
    }
    return html.join("");
  }

  /** Renders every `[data-markdown]` element's text in place (the server sent it escaped; textContent is raw). */
  function renderAll() {
    var nodes = document.querySelectorAll("[data-markdown]");
    for (var n = 0; n < nodes.length; n += 1) nodes[n].innerHTML = renderMarkdown(nodes[n].textContent || "");
  }

  window.CovenMarkdown = { render: renderMarkdown };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", renderAll);
  else renderAll();
})();
