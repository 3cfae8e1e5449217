// ABOUTME: Shared browser helpers of the web admin: CSRF header, fetch wrapper, local times and countdowns,
// ABOUTME: confirm dialogs, copy buttons and the connection badge. Loaded on every page; no inline scripts anywhere.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  /** fetch with the CSRF header and JSON handling; resolves {status, ok, body}. */
  function request(method, url, body) {
    var headers = { "X-CSRF-Token": csrfToken() };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var parsed = text;
        try {
          parsed = text === "" ? null : JSON.parse(text);
        } catch (e) {
          parsed = text;
        }
        return { status: res.status, ok: res.ok, body: parsed };
      });
    });
  }

  function errorText(result) {
    if (result.body && typeof result.body === "object" && typeof result.body.error === "string") return result.body.error;
    if (typeof result.body === "string" && result.body !== "") return result.body.trim();
    return "Request failed (" + result.status + ")";
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function localTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function countdownText(iso) {
    var ms = new Date(iso).getTime() - Date.now();
    if (isNaN(ms)) return iso;
    if (ms <= 0) return "expired";
    var s = Math.floor(ms / 1000);
    var m = Math.floor(s / 60);
    return m > 0 ? m + "m " + pad(s % 60) + "s" : s + "s";
  }

  function refreshTimes(root) {
    (root || document).querySelectorAll("time[data-local-time]").forEach(function (el) {
      el.textContent = localTime(el.getAttribute("datetime"));
    });
    (root || document).querySelectorAll("time[data-countdown]").forEach(function (el) {
      el.textContent = countdownText(el.getAttribute("datetime"));
    });
  }

  function setupConfirms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form && form.getAttribute && form.hasAttribute("data-confirm")) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      }
    });
  }

  function setupCopyButtons() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-copy-target]") : null;
      if (!button) return;
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target) return;
      var text = target.textContent || "";
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () {
          button.textContent = "Copied";
        }, function () {
          button.textContent = "Copy failed";
        });
      }
    });
  }

  function setupConnectionBadge() {
    var badge = document.querySelector('[data-testid="connection-badge"]');
    if (!badge || typeof EventSource === "undefined") return;
    var source = new EventSource("/api/health/stream");
    source.onopen = function () {
      badge.setAttribute("data-state", "open");
      badge.textContent = "connected";
    };
    source.onmessage = function () {
      badge.setAttribute("data-state", "open");
      badge.textContent = "connected";
    };
    source.onerror = function () {
      badge.setAttribute("data-state", "error");
      badge.textContent = "disconnected";
    };
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  function setupRevealButtons() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-reveal-url]") : null;
      if (!button) return;
      var target = document.getElementById(button.getAttribute("data-reveal-target"));
      request("GET", button.getAttribute("data-reveal-url")).then(function (result) {
        if (!target) return;
        target.textContent = result.ok && result.body ? result.body.value : errorText(result);
      });
    });
  }

  window.CovenAdmin = {
    csrfToken: csrfToken,
    request: request,
    errorText: errorText,
    localTime: localTime,
    countdownText: countdownText,
    refreshTimes: refreshTimes,
  };

  document.addEventListener("DOMContentLoaded", function () {
    refreshTimes();
    setInterval(function () {
      document.querySelectorAll("time[data-countdown]").forEach(function (el) {
        el.textContent = countdownText(el.getAttribute("datetime"));
      });
    }, 1000);
    setupConfirms();
    setupCopyButtons();
    setupRevealButtons();
    setupConnectionBadge();
  });
})();
