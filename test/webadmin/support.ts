// ABOUTME: Helpers for web admin tests: a gateway with its HTTP app, cookie jars, CSRF-primed requests, setup.
// ABOUTME: Requests go through `app.inject` against the real app and SQLite through the real migrations.
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { get as httpGet } from "node:http";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "../support/gateway-harness.js";

export const TEST_SECRET = "webadmin-test-secret-0123456789abcdef";

/** A gateway with auth on (a 32+ byte secret) unless `authOff`. */
export async function startWebGateway(options: TestGatewayOptions & { authOff?: boolean } = {}): Promise<TestGateway> {
  const { authOff, mutate, ...rest } = options;
  return startTestGateway({
    ...rest,
    mutate: (config) => {
      const withAuth = authOff ? config : { ...config, auth: { ...config.auth, jwtSecret: TEST_SECRET } };
      const withBase = { ...withAuth, webadmin: { baseUrl: "http://localhost:8080" } };
      return mutate ? mutate(withBase) : withBase;
    },
  });
}

/** The Set-Cookie headers of a response as an array. */
export function setCookies(res: LightMyRequestResponse): string[] {
  const raw = res.headers["set-cookie"];
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw];
}

/** A tiny cookie jar over `app.inject`. */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly app: FastifyInstance;

  constructor(app: FastifyInstance) {
    this.app = app;
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  get csrf(): string {
    return this.cookies.get("coven_admin_csrf") ?? "";
  }

  absorb(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const line of setCookies(res)) {
      const [pair, ...attrs] = line.split(";");
      const eq = (pair as string).indexOf("=");
      const name = (pair as string).slice(0, eq).trim();
      const value = (pair as string).slice(eq + 1).trim();
      if (attrs.some((a) => a.trim().toLowerCase() === "max-age=0")) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.absorb(await this.app.inject({ method: "GET", url, headers: { cookie: this.cookieHeader, ...headers } }));
  }

  /** POSTs a URL-encoded form; `csrf_token` is added from the jar unless given (pass `null` to omit it). */
  async form(url: string, fields: Record<string, string | string[]>, options: { csrf?: string | null } = {}): Promise<LightMyRequestResponse> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
    if (options.csrf !== null) params.set("csrf_token", options.csrf ?? this.csrf);
    return this.absorb(
      await this.app.inject({
        method: "POST",
        url,
        headers: { cookie: this.cookieHeader, "content-type": "application/x-www-form-urlencoded" },
        payload: params.toString(),
      }),
    );
  }

  /** Sends JSON with the `X-CSRF-Token` header from the jar (or `csrf`; `null` omits it). */
  async json(method: string, url: string, body?: unknown, options: { csrf?: string | null } = {}): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { cookie: this.cookieHeader };
    if (options.csrf !== null) headers["x-csrf-token"] = options.csrf ?? this.csrf;
    if (body !== undefined) headers["content-type"] = "application/json";
    return this.absorb(
      await this.app.inject({ method: method as "POST", url, headers, payload: body === undefined ? undefined : JSON.stringify(body) }),
    );
  }
}

export const ADMIN = { username: "alice", password: "correct horse battery", displayName: "Alice Admin" };

/** Runs the first-admin setup in `browser` (which then holds a session). */
export async function setupAdmin(browser: Browser, createPrincipal = false): Promise<LightMyRequestResponse> {
  await browser.get("/setup");
  const fields: Record<string, string> = { username: ADMIN.username, display_name: ADMIN.displayName, password: ADMIN.password };
  if (createPrincipal) fields.create_principal = "on";
  return browser.form("/setup", fields);
}

/** A signed-in browser on a fresh gateway's first admin. */
export async function signedIn(gw: TestGateway): Promise<Browser> {
  const browser = new Browser(gw.gateway.http);
  const res = await setupAdmin(browser);
  if (res.statusCode !== 200) throw new Error(`setup failed: ${res.statusCode} ${res.body}`);
  return browser;
}

/** One parsed SSE frame. */
export interface ChatFrame {
  event: string;
  data: Record<string, unknown>;
}

/** Reads a chat SSE stream over a real connection (inject would buffer until the end). */
export class SseReader {
  readonly frames: ChatFrame[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers: Record<string, unknown> = {};
  ended = false;
  readonly request: import("node:http").ClientRequest;
  response: import("node:http").IncomingMessage | undefined;
  #buffer = "";
  #waiters: Array<() => void> = [];
  readonly opened: Promise<void>;

  constructor(port: number, path: string, cookie: string) {
    let resolveOpened!: () => void;
    this.opened = new Promise((resolve) => {
      resolveOpened = resolve;
    });
    this.request = httpGet({ host: "127.0.0.1", port, path, headers: { cookie, host: `localhost:${port}` } }, (res) => {
      this.response = res;
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      resolveOpened();
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => this.#feed(chunk));
      res.on("end", () => {
        this.ended = true;
        this.#wake();
      });
      res.on("error", () => {
        this.ended = true;
        this.#wake();
      });
    });
    this.request.on("error", () => {
      this.ended = true;
      resolveOpened();
      this.#wake();
    });
  }

  #feed(chunk: string): void {
    this.#buffer += chunk;
    let idx: number;
    while ((idx = this.#buffer.indexOf("\n\n")) >= 0) {
      const block = this.#buffer.slice(0, idx);
      this.#buffer = this.#buffer.slice(idx + 2);
      if (block.startsWith(":")) {
        this.comments.push(block);
        continue;
      }
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
      this.frames.push({ event, data: JSON.parse(data) as Record<string, unknown> });
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until `check` holds on the frames (or the stream ended), at most `timeoutMs`. */
  async until(check: (frames: ChatFrame[]) => boolean, what: string, timeoutMs = 10_000): Promise<ChatFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.frames)) {
      if (this.ended) throw new Error(`stream ended before ${what}: ${JSON.stringify(this.frames.map((f) => f.event))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.frames.map((f) => f.event))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames;
  }

  /** The first frame named `event` after index `from`, waiting for it. */
  async next(event: string, from = 0): Promise<ChatFrame> {
    await this.until((frames) => frames.slice(from).some((f) => f.event === event), event);
    return this.frames.slice(from).find((f) => f.event === event) as ChatFrame;
  }

  close(): void {
    this.request.destroy();
  }
}
