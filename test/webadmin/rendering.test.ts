// ABOUTME: Web admin rendering (web-admin.md §1, §9): escaping template tag, no inline scripts or handlers, static
// ABOUTME: assets with no-cache + ETag, and the byte-exact CSP on pages, JSON, SSE, MCP, static files and 404s.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { html, jsonScript } from "../../web-admin/templates/html.js";
import { copyVendoredWebAuthnBundle, loadStaticAssets, webAuthnBundlePath, WEBAUTHN_BUNDLE_PATH } from "../../src/webadmin/static-files.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { Browser, signedIn, startWebGateway } from "./support.js";

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/** Every `<script>` either has a same-origin src or is a JSON data block; no `on*=` attribute; no javascript: URL. */
function assertNoInlineCode(page: string): void {
  for (const tag of page.match(/<script\b[^>]*>/g) ?? []) {
    expect(/\bsrc="\/static\//.test(tag) || /type="application\/json"/.test(tag), tag).toBe(true);
  }
  expect(page).not.toMatch(/<[^>]+\son[a-z]+\s*=/i);
  expect(page).not.toMatch(/javascript:/i);
}

describe("the vendored passkey bundle", () => {
  it("is copied at build time into static/vendor/ and served from that copy; an unbuilt tree reads the package", () => {
    const root = mkdtempSync(join(tmpdir(), "coven-static-"));
    try {
      writeFileSync(join(root, "app.css"), "body{}");
      const pkg = join(root, "..", `${root.split("/").pop() ?? "x"}-pkg.js`);
      writeFileSync(pkg, "/* package copy */");
      expect(loadStaticAssets(root, pkg).get(WEBAUTHN_BUNDLE_PATH)?.body.toString()).toBe("/* package copy */");
      const target = copyVendoredWebAuthnBundle(root);
      expect(target).toBe(join(root, "vendor", "simplewebauthn-browser.umd.min.js"));
      expect(readFileSync(target)).toEqual(readFileSync(webAuthnBundlePath()));
      expect(webAuthnBundlePath()).toMatch(/@simplewebauthn[\\/]browser[\\/]dist[\\/]bundle[\\/]index\.umd\.min\.js$/);
      const served = loadStaticAssets(root, pkg).get(WEBAUTHN_BUNDLE_PATH);
      expect(served?.body.toString()).toContain("SimpleWebAuthnBrowser");
      rmSync(pkg);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("template escaping", () => {
  it("escapes every interpolated value and keeps nested fragments", () => {
    const evil = `<script>alert("x")</script>' & "`;
    const out = html`<p title="${evil}">${evil}${html`<b>${evil}</b>`}${[evil, 1, null, false]}</p>`.value;
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &quot;">' +
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &quot;" +
        "<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &quot;</b>" +
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &quot;1</p>",
    );
  });

  it("keeps data blocks from closing their script tag", () => {
    const out = jsonScript("d", { a: "</script><script>alert(1)</script>" }).value;
    expect(out).not.toContain("</script><script>");
    expect(JSON.parse(out.replace(/^<script[^>]*>/, "").replace(/<\/script>$/, ""))).toEqual({ a: "</script><script>alert(1)</script>" });
  });
});

describe("web admin pages and headers", () => {
  let gw: TestGateway;
  let b: Browser;
  beforeAll(async () => {
    gw = await startWebGateway();
    b = await signedIn(gw);
  });
  afterAll(async () => {
    await gw.stop();
  });

  it("renders pages without inline scripts, with the security headers", async () => {
    const anon = new Browser(gw.gateway.http);
    const pages = [await anon.get("/login"), await b.get("/"), await b.get("/admin/"), await anon.get(`/invite/${"0".repeat(64)}`)];
    for (const page of pages) {
      expect(page.statusCode).toBe(200);
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(page.headers["content-security-policy"]).toBe(CSP);
      expect(page.headers["x-content-type-options"]).toBe("nosniff");
      expect(page.headers["referrer-policy"]).toBe("same-origin");
      assertNoInlineCode(page.body);
    }
    const chat = pages[1]?.body ?? "";
    expect(chat).toContain("Select an agent to start chatting");
    for (const id of ["chat-app", "chat-sidebar", "agent-list", "chat-messages", "chat-input", "chat-send", "chat-cancel", "logout-form", "connection-badge"]) {
      expect(chat).toContain(`data-testid="${id}"`);
    }
    expect(chat).toContain("coven-gateway v0.1.0");
    expect(chat).toContain("Coven / Control Plane");
    expect(pages[2]?.body).toContain('data-testid="add-passkey"');
    expect(pages[2]?.body).toContain('data-testid="invite-create"');
  });

  it("serves static files with no-cache, an ETag, 304 on a match, and the vendored passkey bundle", async () => {
    for (const name of ["app.css", "app.js", "chat.js", "passkey.js", "vendor/simplewebauthn-browser.umd.min.js"]) {
      const res = await gw.gateway.http.inject({ method: "GET", url: `/static/${name}` });
      expect(res.statusCode, name).toBe(200);
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers.etag).toMatch(/^".+"$/);
      expect(res.headers["content-security-policy"]).toBe(CSP);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["referrer-policy"]).toBe("same-origin");
      const again = await gw.gateway.http.inject({ method: "GET", url: `/static/${name}`, headers: { "if-none-match": String(res.headers.etag) } });
      expect(again.statusCode).toBe(304);
    }
    const bundle = await gw.gateway.http.inject({ method: "GET", url: "/static/vendor/simplewebauthn-browser.umd.min.js" });
    expect(bundle.body).toContain("SimpleWebAuthnBrowser");
    expect(bundle.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect((await gw.gateway.http.inject({ method: "GET", url: "/static/nope.js" })).statusCode).toBe(404);
  });

  it("puts the byte-exact CSP on JSON, SSE, MCP, static and 404 responses", async () => {
    const json = await gw.gateway.http.inject({ method: "GET", url: "/api/admin/agents", headers: { cookie: b.cookieHeader } });
    expect(json.headers["content-type"]).toBe("application/json");
    expect(json.headers["content-security-policy"]).toBe(CSP);
    const api = await gw.gateway.http.inject({ method: "GET", url: "/api/agents" });
    expect(api.headers["content-security-policy"]).toBe(CSP);
    const mcp = await gw.gateway.http.inject({ method: "POST", url: "/mcp", payload: "{}", headers: { "content-type": "application/json" } });
    expect(mcp.headers["content-security-policy"]).toBe(CSP);
    const missing = await gw.gateway.http.inject({ method: "GET", url: "/no/such/page" });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-security-policy"]).toBe(CSP);

    // SSE: read the headers off a real listener, then drop the connection.
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: gw.httpPort, path: "/api/health/stream" }, (res) => {
        resolve(res.headers);
        res.destroy();
      });
      req.on("error", reject);
      req.end();
    });
    expect(headers["content-type"]).toBe("text/event-stream");
    expect(headers["content-security-policy"]).toBe(CSP);
  });
});
