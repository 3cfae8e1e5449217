// ABOUTME: Reads web admin request bodies: URL-encoded forms and JSON objects, within the HTTP body limit.
// ABOUTME: A body that cannot be read as either gives `undefined`, which routes answer with `Invalid form data`.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";

/** The fields of a request body; a JSON array value yields each string element for `all`. */
export class FormFields {
  readonly #values = new Map<string, string[]>();

  add(name: string, value: string): void {
    const list = this.#values.get(name);
    if (list) list.push(value);
    else this.#values.set(name, [value]);
  }

  /** The first value, or `""` when absent. */
  get(name: string): string {
    return this.#values.get(name)?.[0] ?? "";
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  all(name: string): string[] {
    return [...(this.#values.get(name) ?? [])];
  }
}

/** A body as the parser stored it; `bytes` is undefined when it was over the limit. */
export class WebBody {
  readonly bytes: Buffer | undefined;

  constructor(bytes: Buffer | undefined) {
    this.bytes = bytes;
  }
}

/** Installs, in the web admin's plugin scope only, a parser that stores every body as a WebBody. */
export function registerWebBodyParser(app: FastifyInstance, maxBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, payload, done) => {
    readLimited(payload, maxBytes).then(
      (bytes) => done(null, new WebBody(bytes)),
      () => done(null, new WebBody(undefined)),
    );
  });
}

function readLimited(payload: Readable, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let over = false;
    payload.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) over = true;
      else chunks.push(chunk);
    });
    payload.on("end", () => resolve(over ? undefined : Buffer.concat(chunks, total)));
    payload.on("error", reject);
  });
}

const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/**
 * The body's fields: JSON when it starts with `{` or the Content-Type says JSON, else URL-encoded. Undefined for
 * an unreadable body (over the limit, malformed JSON, a non-object JSON value, or bad percent-escapes).
 */
export function readFormFields(request: FastifyRequest): FormFields | undefined {
  const body = request.body;
  const fields = new FormFields();
  if (body === undefined || body === null) return fields;
  if (!(body instanceof WebBody) || body.bytes === undefined) return undefined;
  const text = body.bytes.toString("utf8");
  const type = String(request.headers["content-type"] ?? "").toLowerCase();
  if (type.includes("json") || text.trimStart().startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v === "string") fields.add(name, v);
      else if (typeof v === "number" || typeof v === "boolean") fields.add(name, String(v));
      else if (Array.isArray(v)) for (const item of v) if (typeof item === "string") fields.add(name, item);
    }
    return fields;
  }
  if (BAD_PERCENT.test(text)) return undefined;
  try {
    for (const [name, v] of new URLSearchParams(text)) fields.add(name, v);
  } catch {
    return undefined;
  }
  return fields;
}
