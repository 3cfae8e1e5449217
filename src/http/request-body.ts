// ABOUTME: The catch-all request body reader: bodies are JSON whatever the Content-Type, within a byte limit.
// ABOUTME: Parsing is deferred to the handler so each route runs its checks (405 first) in the spec's order.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";
import { GatewayError } from "../lib/gateway-error.js";
import { HttpError } from "./http-errors.js";

/** The bytes of a request body as read by the catch-all parser; `bytes` is undefined when over the limit. */
export class RawBody {
  readonly bytes: Buffer | undefined;

  constructor(bytes: Buffer | undefined) {
    this.bytes = bytes;
  }

  get isTooLarge(): boolean {
    return this.bytes === undefined;
  }
}

const INVALID_BODY = "invalid JSON body";

/**
 * Replaces every content-type parser of `app` with one that reads any body (any Content-Type, or none) into a
 * RawBody without interpreting it. Bodies over `maxBytes` are drained and reported as too large, never buffered.
 */
export function registerRawBodyParser(app: FastifyInstance, maxBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (request, payload, done) => {
    readLimited(payload, maxBytes, Number(request.headers["content-length"])).then(
      (body) => done(null, body),
      () => done(null, new RawBody(Buffer.alloc(0))),
    );
  });
}

function readLimited(payload: Readable, maxBytes: number, announced: number): Promise<RawBody> {
  if (Number.isFinite(announced) && announced > maxBytes) {
    payload.resume();
    return Promise.resolve(new RawBody(undefined));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      payload.off("data", onData);
      payload.off("end", onEnd);
      payload.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        cleanup();
        payload.resume();
        resolve(new RawBody(undefined));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(new RawBody(Buffer.concat(chunks, total)));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    payload.on("data", onData);
    payload.on("end", onEnd);
    payload.on("error", onError);
  });
}

/** A parsed JSON object body. Unknown fields are kept but ignored by the readers below. */
export type JsonObject = Record<string, unknown>;

/**
 * Reads the request body as one JSON object: `null` counts as `{}`. Throws HttpError 413 `request body too large`
 * over the limit, and GatewayError INVALID_ARGUMENT `invalid JSON body` for a missing, empty or non-JSON body,
 * or any JSON value other than an object or null.
 */
export function readJsonObject(request: FastifyRequest): JsonObject {
  const body = request.body;
  if (body instanceof RawBody && body.isTooLarge) throw new HttpError(413, "request body too large");
  const bytes = body instanceof RawBody ? body.bytes : undefined;
  if (bytes === undefined || bytes.length === 0) throw new GatewayError("INVALID_ARGUMENT", INVALID_BODY);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new GatewayError("INVALID_ARGUMENT", INVALID_BODY);
  }
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new GatewayError("INVALID_ARGUMENT", INVALID_BODY);
  return value as JsonObject;
}

/**
 * A known string field: `""` when absent or JSON null (so "required" checks treat them as missing). Throws
 * GatewayError INVALID_ARGUMENT `invalid JSON body` when the field holds another JSON type.
 */
export function stringField(body: JsonObject, name: string): string {
  const value = body[name];
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new GatewayError("INVALID_ARGUMENT", INVALID_BODY);
  return value;
}
