// ABOUTME: Serves the web admin's assets under /static/ from memory with `Cache-Control: no-cache` and an ETag.
// ABOUTME: The passkey library is @simplewebauthn/browser's UMD bundle, copied into static/vendor/ at build time.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

/** One asset ready to send. */
export interface StaticAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** The URL path of the vendored passkey bundle. */
export const WEBAUTHN_BUNDLE_PATH = "vendor/simplewebauthn-browser.umd.min.js";

/**
 * The folder of the static assets: `web-admin/static` of the checkout, found by walking up from this module (it
 * runs from `src/webadmin` under vitest and from `dist/src/webadmin` when built). Throws when it is missing.
 */
export function findStaticRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, "web-admin", "static");
    if (existsSync(join(candidate, "app.css"))) return candidate;
    dir = dirname(dir);
  }
  throw new Error("web admin assets not found (web-admin/static)");
}

/** The path of @simplewebauthn/browser's UMD bundle; `package.json` is not in its exports, so go via its main. */
export function webAuthnBundlePath(): string {
  const require = createRequire(import.meta.url);
  return resolve(dirname(require.resolve("@simplewebauthn/browser")), "..", "dist", "bundle", "index.umd.min.js");
}

function asset(body: Buffer, path: string): StaticAsset {
  return {
    body,
    contentType: TYPES[extname(path)] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
  };
}

/** Copies the bundle to `<root>/vendor/` (the build step, cmd/copy-webauthn-bundle.ts); returns the target path. */
export function copyVendoredWebAuthnBundle(root: string, bundlePath: string = webAuthnBundlePath()): string {
  const target = join(root, ...WEBAUTHN_BUNDLE_PATH.split("/"));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(bundlePath, target);
  return target;
}

/**
 * Loads every file under `root`, keyed by the path after `/static/`. The passkey bundle is the build-time copy in
 * `vendor/`; a checkout that was never built reads it from `bundlePath` (the package) instead.
 */
export function loadStaticAssets(root: string, bundlePath: string = webAuthnBundlePath()): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else assets.set(relative(root, path).split(sep).join("/"), asset(readFileSync(path), path));
    }
  };
  walk(root);
  if (!assets.has(WEBAUTHN_BUNDLE_PATH)) assets.set(WEBAUTHN_BUNDLE_PATH, asset(readFileSync(bundlePath), bundlePath));
  return assets;
}

/** Registers `GET /static/*`; unknown files fall through to the app's 404. */
export function staticRoutes(assets: Map<string, StaticAsset>) {
  return async function registerStatic(app: FastifyInstance): Promise<void> {
    app.get("/static/*", async (request, reply) => {
      const key = (request.params as { "*": string })["*"];
      const found = assets.get(key);
      if (found === undefined) return reply.callNotFound();
      reply.header("cache-control", "no-cache").header("etag", found.etag);
      if (request.headers["if-none-match"] === found.etag) return reply.code(304).send();
      return reply.code(200).header("content-type", found.contentType).send(found.body);
    });
  };
}
