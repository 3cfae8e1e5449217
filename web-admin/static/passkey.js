// ABOUTME: Passkey buttons of the web admin: "Add passkey" on the dashboard (registration) and "Sign in with
// ABOUTME: passkey" on the login page (discoverable login), through @simplewebauthn/browser v14's UMD bundle.
(function () {
  "use strict";

  function status(text) {
    var el = document.querySelector('[data-testid="passkey-status"]');
    if (el) el.textContent = text;
  }

  function post(url, body) {
    var headers = { "Content-Type": "application/json" };
    if (window.CovenAdmin) headers["X-CSRF-Token"] = window.CovenAdmin.csrfToken();
    return fetch(url, {
      method: "POST",
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (res) {
      return res.text().then(function (text) {
        var parsed = null;
        try {
          parsed = text === "" ? null : JSON.parse(text);
        } catch (e) {
          parsed = null;
        }
        var message = parsed && typeof parsed.error === "string" ? parsed.error : text.trim();
        return { ok: res.ok, status: res.status, body: parsed, message: message };
      });
    });
  }

  function register(button) {
    var lib = window.SimpleWebAuthnBrowser;
    button.disabled = true;
    status("Waiting for your authenticator…");
    post("/webauthn/register/begin")
      .then(function (begin) {
        if (!begin.ok) throw new Error(begin.message);
        return lib.startRegistration({ optionsJSON: begin.body.options }).then(function (response) {
          return post("/webauthn/register/finish", { sessionToken: begin.body.sessionToken, response: response });
        });
      })
      .then(function (finish) {
        if (!finish.ok) throw new Error(finish.message);
        status("Passkey registered successfully!");
      })
      .catch(function (err) {
        if (err && err.name === "NotAllowedError") status("Registration cancelled.");
        else if (err && err.name === "InvalidStateError") status("This passkey is already registered.");
        else status((err && err.message) || "Registration failed.");
      })
      .then(function () {
        button.disabled = false;
      });
  }

  function login(button) {
    var lib = window.SimpleWebAuthnBrowser;
    button.disabled = true;
    status("Waiting for your authenticator…");
    post("/webauthn/login/begin")
      .then(function (begin) {
        if (!begin.ok) throw new Error(begin.message);
        return lib.startAuthentication({ optionsJSON: begin.body.options }).then(function (response) {
          return post("/webauthn/login/finish", { sessionToken: begin.body.sessionToken, response: response });
        });
      })
      .then(function (finish) {
        if (!finish.ok) throw new Error(finish.message);
        window.location.assign(finish.body && finish.body.redirect ? finish.body.redirect : "/");
      })
      .catch(function (err) {
        if (err && err.name === "NotAllowedError") status("Sign-in cancelled.");
        else status((err && err.message) || "Sign-in failed.");
        button.disabled = false;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var supported = typeof window.PublicKeyCredential !== "undefined" && window.SimpleWebAuthnBrowser;
    var add = document.querySelector('[data-testid="add-passkey"]');
    if (add) {
      if (!supported) add.disabled = true;
      add.addEventListener("click", function () {
        register(add);
      });
    }
    var signIn = document.querySelector('[data-testid="passkey-login"]');
    if (signIn && supported) {
      var wrapper = document.querySelector("[data-passkey-only]");
      if (wrapper) wrapper.hidden = false;
      signIn.addEventListener("click", function () {
        login(signIn);
      });
    }
  });
})();
