// ABOUTME: Browser test (real Chromium via playwright-core): an admin signs in, clicks "Pair a device" on the
// ABOUTME: device-links page, and the QR image the page shows decodes to the deep link it prints, which then enrolls.
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import type { TestGateway } from "../support/gateway-harness.js";
import { startAuthGateway } from "../support/identity-fixtures.js";
import { decodeQrDataUrl } from "../support/qr-decode.js";
import jsqr from "jsqr";
import { PNG } from "pngjs";

const CHROMIUM = "/usr/bin/chromium";
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A port that was free a moment ago (the browser must browse `http://localhost:P`, so port 0 cannot be used). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "localhost", port: 0 }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Reads the QR code in a PNG screenshot. */
function decodeScreenshot(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsqr.default(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

describe("device links page: Pair a device", () => {
  it("shows a QR code that decodes to the copyable deep link, with a countdown, and the link enrolls a device", { timeout: 60_000 }, async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      ctx.skip("chromium not installed");
      return;
    }
    const port = await freePort();
    const gw: TestGateway = await startAuthGateway({
      mutate: (config) => ({
        ...config,
        server: { ...config.server, httpAddr: `localhost:${port}` },
        webadmin: { baseUrl: `http://localhost:${port}` },
      }),
    });
    cleanups.push(() => gw.stop());
    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const problems: string[] = [];
    // CSP refusals and script errors show up here; failed loads are checked by URL below.
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) problems.push(message.text());
    });
    page.on("response", (response) => {
      if (response.status() >= 400 && new URL(response.url()).pathname !== "/favicon.ico") problems.push(`${response.status()} ${response.url()}`);
    });
    page.on("pageerror", (err) => problems.push(err.message));
    const base = `http://localhost:${port}`;

    await page.goto(`${base}/setup`);
    await page.fill('input[name="username"]', "alice");
    await page.fill('input[name="display_name"]', "Alice");
    await page.fill('input[name="password"]', "correct horse battery");
    await Promise.all([page.waitForLoadState("load"), page.click('[data-testid="setup-form"] button[type="submit"]')]);

    await page.goto(`${base}/admin/link`);
    await page.click('[data-testid="pair-device"]');
    // Evaluated in the page (this project compiles without DOM types, hence the string).
    await page.waitForFunction(
      `(() => { const img = document.querySelector('[data-testid="pair-qr"]');
        return img !== null && img.complete && img.naturalWidth > 0 && img.src.startsWith("data:image/png;base64,"); })()`,
    );
    const qr = page.locator('[data-testid="pair-qr"]');
    const shown = {
      src: (await qr.getAttribute("src")) ?? "",
      naturalWidth: await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      url: (await page.locator('[data-testid="pair-url"]').textContent()) ?? "",
      countdown: (await page.locator('[data-testid="pair-countdown"]').textContent()) ?? "",
      isResultHidden: !(await page.locator('[data-testid="pair-result"]').isVisible()),
      copyTarget: await page.locator("[data-copy-target]").first().getAttribute("data-copy-target"),
    };
    expect(shown.isResultHidden).toBe(false);
    expect(shown.url).toMatch(new RegExp(`^coven://pair\\?v=1&host=localhost&port=${gw.grpcPort}&token=[A-Za-z0-9_-]{43}$`));
    expect(shown.naturalWidth).toBe(256);
    expect(decodeQrDataUrl(shown.src).text).toBe(shown.url);
    // The image as the browser rendered it reads back to the same link.
    expect(decodeScreenshot(await qr.screenshot())).toBe(shown.url);
    expect(shown.countdown).toMatch(/^[45]m \d\ds$/);
    expect(shown.copyTarget).toBe("pair-url");
    expect(problems).toEqual([]);

    const token = shown.url.slice(shown.url.indexOf("&token=") + "&token=".length);
    const enrolled = await fetch(`${base}/api/link/pair`, {
      method: "POST",
      body: JSON.stringify({ token, fingerprint: "d".repeat(64), device_name: "browser-paired" }),
    });
    expect(enrolled.status).toBe(200);
  });
});
