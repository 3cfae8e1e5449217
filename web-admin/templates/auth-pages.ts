// ABOUTME: Templates of the signed-out pages: login, first-admin setup, setup complete and invite signup.
// ABOUTME: Each takes plain data (texts, values to refill) and returns escaped markup.
import { html, type SafeHtml } from "./html.js";
import { barePage, banners } from "./layout.js";

const PASSKEY_SCRIPTS = ["/static/vendor/simplewebauthn-browser.umd.min.js", "/static/passkey.js"];

function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf_token" value="${token}">`;
}

/** `GET /login`, and its re-render with an error (status 200). */
export function loginPage(data: { csrfToken: string; error?: string | undefined; username?: string | undefined; notice?: string | undefined }): SafeHtml {
  return barePage({
    title: "Sign in",
    csrfToken: data.csrfToken,
    scripts: PASSKEY_SCRIPTS,
    body: html`<h1>Sign in to coven</h1>
${banners(data.notice, data.error)}
<form method="post" action="/login" data-testid="login-form" class="stack">
  ${csrfField(data.csrfToken)}
  <label>Username <input name="username" autocomplete="username webauthn" value="${data.username ?? ""}" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>
<div class="passkey-login" hidden data-passkey-only>
  <p class="muted">or</p>
  <button type="button" data-testid="passkey-login" class="secondary">Sign in with passkey</button>
  <p class="passkey-status" data-testid="passkey-status" role="status"></p>
</div>`,
  });
}

/** `GET /setup` and its re-render with an error. */
export function setupPage(data: {
  csrfToken: string;
  error?: string | undefined;
  username?: string | undefined;
  displayName?: string | undefined;
  createPrincipal: boolean;
  isAuthEnabled: boolean;
}): SafeHtml {
  return barePage({
    title: "Setup",
    csrfToken: data.csrfToken,
    body: html`<h1>Welcome to coven</h1>
<p>Create the first admin account.</p>
${banners(undefined, data.error)}
<form method="post" action="/setup" data-testid="setup-form" class="stack">
  ${csrfField(data.csrfToken)}
  <label>Username <input name="username" autocomplete="username" value="${data.username ?? ""}" required></label>
  <label>Display name <input name="display_name" value="${data.displayName ?? ""}" required></label>
  <label>Password <input name="password" type="password" autocomplete="new-password" required></label>
  <label class="check"><input type="checkbox" name="create_principal" value="on"${data.createPrincipal ? html` checked` : ""}> Also create an API principal and token for me</label>
  ${data.isAuthEnabled ? "" : html`<p class="muted">API token not available: auth is disabled (no jwt_secret configured)</p>`}
  <button type="submit">Create admin</button>
</form>`,
  });
}

/** The setup-complete page (status 200). */
export function setupCompletePage(data: {
  csrfToken: string;
  displayName: string;
  token: string | undefined;
  notice: string | undefined;
  grpcAddress: string;
}): SafeHtml {
  return barePage({
    title: "Setup Complete",
    csrfToken: data.csrfToken,
    body: html`<h1>Setup Complete</h1>
<p>Welcome, ${data.displayName}!</p>
${banners(data.notice, undefined)}
${
  data.token === undefined
    ? ""
    : html`<p>Save this API token — it won't be shown again:</p>
<div class="secret-box"><code data-testid="token-value" id="setup-token">${data.token}</code>
<button type="button" class="secondary" data-copy-target="setup-token">Copy</button></div>`
}
<p>gRPC address: <code data-testid="grpc-address">${data.grpcAddress}</code></p>
<p><a class="button" href="/" data-testid="start-chatting">Start Chatting</a></p>`,
  });
}

/** `GET /invite/{token}`: the signup form, or only the error when the invite is unusable. */
export function invitePage(data: {
  csrfToken: string;
  token: string;
  error?: string | undefined;
  showForm: boolean;
  username?: string | undefined;
  displayName?: string | undefined;
}): SafeHtml {
  return barePage({
    title: "Join coven",
    csrfToken: data.csrfToken,
    body: html`<h1>Join coven</h1>
${banners(undefined, data.error)}
${
  data.showForm
    ? html`<form method="post" action="/invite/${encodeURIComponent(data.token)}" data-testid="invite-form" class="stack">
  ${csrfField(data.csrfToken)}
  <label>Username <input name="username" autocomplete="username" value="${data.username ?? ""}" required></label>
  <label>Display name <input name="display_name" value="${data.displayName ?? ""}" placeholder="defaults to the username"></label>
  <label>Password <input name="password" type="password" autocomplete="new-password" required></label>
  <button type="submit">Create account</button>
</form>`
    : html`<p><a href="/login">Go to sign in</a></p>`
}`,
  });
}
