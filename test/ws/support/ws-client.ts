// ABOUTME: An independent WS test client over the `ws` package: every frame sent and received is validated against
// ABOUTME: the schema fetched from GET /ws/schema.json with a fresh Ajv 2020, and frames can be awaited by predicate.
import * as ajv2020 from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";
import WebSocket from "ws";

export type Frame = Record<string, any>;

/** The schema document of a running gateway, compiled once per base URL. */
export class WsSchema {
  #ajv = new ajv2020.Ajv2020({ allErrors: true, strict: false });
  #id = "";
  #cache = new Map<string, ValidateFunction>();

  static async fetch(httpUrl: string): Promise<WsSchema> {
    const res = await fetch(`${httpUrl}/ws/schema.json`);
    if (res.status !== 200) throw new Error(`schema: ${res.status}`);
    const doc = (await res.json()) as { $id: string };
    const schema = new WsSchema();
    schema.#ajv.addSchema(doc);
    schema.#id = doc.$id;
    return schema;
  }

  /** Throws with Ajv's errors when `frame` does not validate against `$defs/<def>`. */
  check(def: string, value: unknown): void {
    let fn = this.#cache.get(def);
    if (!fn) {
      fn = this.#ajv.getSchema(`${this.#id}#/$defs/${def}`);
      if (!fn) throw new Error(`no $def ${def}`);
      this.#cache.set(def, fn);
    }
    if (!fn(value)) throw new Error(`${def} invalid: ${JSON.stringify(fn.errors)} in ${JSON.stringify(value).slice(0, 500)}`);
  }

  /** Validates an outbound (server) frame by its type, and a `res` payload against `<M>Result` when `method` is known. */
  checkServerFrame(frame: Frame, method?: string): void {
    const def = { "hello-ok": "HelloOk", "hello-error": "HelloError", res: "Response", event: "Event" }[frame.type as string];
    if (!def) throw new Error(`unknown server frame type ${String(frame.type)}`);
    this.check(def, frame);
    if (frame.type === "res" && frame.ok === true && method) this.check(`${resultDef(method)}Result`, frame.payload);
  }
}

function resultDef(method: string): string {
  return method
    .split(".")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

export interface WsClientOptions {
  headers?: Record<string, string>;
  origin?: string;
  autoPong?: boolean;
  protocols?: string[];
}

/** One client connection. All received frames are kept in `frames`; `close()` in a cleanup. */
export class WsClient {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  readonly schema: WsSchema;
  closeInfo: { code: number; reason: string } | undefined;
  #waiters: Array<() => void> = [];
  #methods = new Map<string, string>();
  #nextId = 1;
  readonly opened: Promise<void>;
  readonly closedPromise: Promise<{ code: number; reason: string }>;
  validationErrors: string[] = [];

  constructor(url: string, schema: WsSchema, options: WsClientOptions = {}) {
    this.schema = schema;
    this.socket = new WebSocket(url, options.protocols ?? [], {
      headers: options.headers,
      origin: options.origin,
      autoPong: options.autoPong ?? true,
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
      this.socket.once("unexpected-response", (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    });
    this.opened.catch(() => undefined);
    this.closedPromise = new Promise((resolve) => {
      this.socket.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.#wake();
      });
    });
    this.socket.on("error", () => undefined);
    this.socket.on("message", (data, isBinary) => {
      if (isBinary) throw new Error("server sent a binary frame");
      const frame = JSON.parse(data.toString()) as Frame;
      try {
        this.schema.checkServerFrame(frame, frame.type === "res" ? this.#methods.get(frame.id as string) : undefined);
      } catch (err) {
        this.validationErrors.push((err as Error).message);
      }
      this.frames.push(frame);
      this.#wake();
    });
  }

  static async open(httpUrl: string, schema: WsSchema, options: WsClientOptions = {}): Promise<WsClient> {
    const client = new WsClient(`${httpUrl.replace(/^http/, "ws")}/ws`, schema, options);
    await client.opened;
    return client;
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Sends a JSON frame after validating it against `def` (skip with `def` undefined for deliberately bad frames). */
  sendFrame(frame: unknown, def?: string): void {
    if (def) this.schema.check(def, frame);
    this.socket.send(JSON.stringify(frame));
  }

  /** Sends a valid hello and resolves with hello-ok (or hello-error). */
  async hello(extra: Record<string, unknown> = {}): Promise<Frame> {
    this.sendFrame({ type: "hello", min_protocol: 1, max_protocol: 1, client: { name: "test", version: "1.0" }, ...extra }, "Hello");
    return this.waitFor((f) => f.type === "hello-ok" || f.type === "hello-error");
  }

  /** Sends a request; `params` is validated against `<M>Params` unless `raw`. Returns its id. */
  request(method: string, params?: unknown, options: { id?: string; raw?: boolean } = {}): string {
    const id = options.id ?? `r${this.#nextId++}`;
    const frame = { type: "req", id, method, ...(params === undefined ? {} : { params }) };
    if (!options.raw) {
      this.schema.check("Request", frame);
      this.schema.check(`${resultDef(method)}Params`, params ?? {});
    }
    this.#methods.set(id, method);
    this.socket.send(JSON.stringify(frame));
    return id;
  }

  /** Sends a request and resolves with its `res` frame. */
  async call(method: string, params?: unknown, options: { id?: string; raw?: boolean } = {}): Promise<Frame> {
    const id = this.request(method, params, options);
    return this.waitFor((f) => f.type === "res" && f.id === id);
  }

  /** Resolves with the first frame (from `from` on) matching `predicate`. */
  async waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 15_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(predicate);
      if (found) return found;
      if (this.closeInfo) throw new Error(`closed ${this.closeInfo.code} ${this.closeInfo.reason} while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting; last frames ${JSON.stringify(this.frames.slice(-3)).slice(0, 800)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the count of frames matching `predicate` reaches `n`. */
  async waitCount(predicate: (frame: Frame) => boolean, n: number, timeoutMs = 30_000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.filter(predicate);
      if (found.length >= n) return found;
      if (this.closeInfo) throw new Error(`closed ${this.closeInfo.code} ${this.closeInfo.reason} with ${found.length}/${n}`);
      if (Date.now() > deadline) throw new Error(`timed out with ${found.length}/${n}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The `run` events of one request. */
  runEvents(requestId: string): Frame[] {
    return this.frames.filter((f) => f.type === "event" && f.event === "run" && f.payload.request_id === requestId);
  }

  events(): Frame[] {
    return this.frames.filter((f) => f.type === "event");
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    if (this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.terminate();
      return;
    }
    this.socket.close(1000);
    const timer = setTimeout(() => this.socket.terminate(), 1_000);
    await this.closedPromise;
    clearTimeout(timer);
  }
}

/** seq of every event frame is 1, 2, 3, … without gap or repeat. */
export function seqs(client: WsClient): number[] {
  return client.events().map((f) => f.seq as number);
}
