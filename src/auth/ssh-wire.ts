// ABOUTME: SSH wire-format primitives (RFC 4251 string/mpint) and strict standard base64 decoding.
// ABOUTME: Shared by the public-key parser, the signature verifier and the client-side signer.
import { GatewayError } from "../lib/gateway-error.js";

/** Thrown for malformed wire data; callers prefix the message with their own context. */
function malformed(detail: string): GatewayError {
  return new GatewayError("INVALID_ARGUMENT", detail);
}

/**
 * Decodes strict standard base64 (alphabet `A-Z a-z 0-9 + /`, `=` padding to a multiple of 4, zero pad bits).
 * Node's own decoder silently skips junk, which would let two different texts name the same key.
 * Throws GatewayError INVALID_ARGUMENT with a short detail.
 */
export function decodeStrictBase64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw malformed("illegal base64 data");
  if (text.length % 4 !== 0) throw malformed("illegal base64 data: length is not a multiple of 4");
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text) throw malformed("illegal base64 data: non-canonical encoding");
  return bytes;
}

/** Sequential reader over SSH wire data; every read throws GatewayError INVALID_ARGUMENT when data runs short. */
export class SshWireReader {
  readonly #bytes: Buffer;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  /** Reads a `string`: uint32 big-endian length, then that many bytes. */
  readString(what: string): Buffer {
    if (this.remaining < 4) throw malformed(`short read of ${what} length`);
    const length = this.#bytes.readUInt32BE(this.#offset);
    if (length > this.remaining - 4) throw malformed(`${what} length ${length} exceeds remaining ${this.remaining - 4} bytes`);
    const start = this.#offset + 4;
    this.#offset = start + length;
    return this.#bytes.subarray(start, this.#offset);
  }

  /** Reads a `string` and decodes it as ASCII/UTF-8 text (algorithm and curve names). */
  readText(what: string): string {
    return this.readString(what).toString("utf8");
  }

  /**
   * Reads a non-negative `mpint` and returns its magnitude with leading zero bytes removed (empty for zero).
   * Negative values (top bit set without a 0x00 prefix) are refused.
   */
  readUnsignedMpint(what: string): Buffer {
    const raw = this.readString(what);
    if (raw.length > 0 && (raw[0]! & 0x80) !== 0) throw malformed(`${what} is negative`);
    let start = 0;
    while (start < raw.length && raw[start] === 0) start += 1;
    return raw.subarray(start);
  }
}

/** Encodes a `string`: uint32 big-endian length followed by the bytes. */
export function encodeString(value: Uint8Array | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Encodes a non-negative integer given as big-endian magnitude bytes as an `mpint` (minimal, sign byte if needed). */
export function encodeUnsignedMpint(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start += 1;
  const trimmed = Buffer.from(magnitude.subarray(start));
  const needsSignByte = trimmed.length > 0 && (trimmed[0]! & 0x80) !== 0;
  return encodeString(needsSignByte ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** Left-pads `bytes` with zeros to `size`; returns undefined when it is already longer. */
export function leftPad(bytes: Uint8Array, size: number): Buffer | undefined {
  if (bytes.length > size) return undefined;
  const out = Buffer.alloc(size);
  out.set(bytes, size - bytes.length);
  return out;
}
