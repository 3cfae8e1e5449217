// ABOUTME: Parses SSH public keys (authorized_keys lines and wire blobs) into node:crypto KeyObjects.
// ABOUTME: Computes the principal fingerprint: lowercase hex SHA-256 of the key blob (auth.md §5, §5.3).
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { GatewayError, describeError } from "../lib/gateway-error.js";
import { decodeStrictBase64, encodeString, encodeUnsignedMpint, SshWireReader } from "./ssh-wire.js";

/** Key types whose blobs we accept (auth.md §5: no DSA, security keys or certificates). */
export type SshKeyType = "ssh-ed25519" | "ssh-rsa" | "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521";

/** A parsed SSH public key. */
export interface SshPublicKey {
  /** Algorithm from the blob's own leading string (authoritative; the line's type word is informational). */
  readonly type: SshKeyType;
  /** The wire-format key blob (the bytes of the base64 field). */
  readonly blob: Buffer;
  /** 64 lowercase hex characters: SHA-256 of `blob`. */
  readonly fingerprint: string;
  readonly keyObject: KeyObject;
  /** The authorized_keys comment, "" when absent or when parsed from a blob. */
  readonly comment: string;
}

/** Per-curve constants for the ECDSA key types. */
export interface EcdsaCurve {
  readonly sshName: string;
  readonly jwkCurve: "P-256" | "P-384" | "P-521";
  /** Coordinate and scalar size in bytes. */
  readonly size: number;
  readonly hash: "sha256" | "sha384" | "sha512";
}

const ECDSA_CURVES: Readonly<Record<string, EcdsaCurve>> = {
  "ecdsa-sha2-nistp256": { sshName: "nistp256", jwkCurve: "P-256", size: 32, hash: "sha256" },
  "ecdsa-sha2-nistp384": { sshName: "nistp384", jwkCurve: "P-384", size: 48, hash: "sha384" },
  "ecdsa-sha2-nistp521": { sshName: "nistp521", jwkCurve: "P-521", size: 66, hash: "sha512" },
};

const MIN_RSA_BITS = 1024;
const MAX_RSA_BITS = 16384;

/** Words that name an SSH key type on an authorized_keys line, supported or not (options fields never match). */
const TYPE_WORD = /^(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9-]+@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/;

function invalidKey(detail: string, cause?: unknown): GatewayError {
  return new GatewayError("INVALID_ARGUMENT", detail, { cause });
}

/** The curve constants for an ECDSA key type, or undefined for other types. */
export function ecdsaCurveOf(type: string): EcdsaCurve | undefined {
  return ECDSA_CURVES[type];
}

/** Lowercase hex SHA-256 of a key blob (64 chars, no `SHA256:` prefix, no colons). */
export function sshFingerprint(blob: Uint8Array): string {
  return createHash("sha256").update(blob).digest("hex");
}

function toKeyObject(jwk: Record<string, string>): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: "jwk" });
  } catch (err) {
    throw invalidKey(`key material rejected: ${describeError(err)}`, err);
  }
}

function ensureConsumed(reader: SshWireReader): void {
  if (reader.remaining !== 0) throw invalidKey(`trailing ${reader.remaining} bytes after key blob`);
}

function parseEd25519(reader: SshWireReader): KeyObject {
  const key = reader.readString("ed25519 key");
  if (key.length !== 32) throw invalidKey(`invalid size ${key.length} for Ed25519 public key`);
  ensureConsumed(reader);
  return toKeyObject({ kty: "OKP", crv: "Ed25519", x: key.toString("base64url") });
}

function parseRsa(reader: SshWireReader): KeyObject {
  const e = reader.readUnsignedMpint("rsa exponent");
  const n = reader.readUnsignedMpint("rsa modulus");
  ensureConsumed(reader);
  if (e.length > 3) throw invalidKey("rsa exponent too large");
  const exponent = e.length === 0 ? 0 : e.readUIntBE(0, e.length);
  if (exponent < 3 || exponent % 2 === 0) throw invalidKey("incorrect rsa exponent");
  const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0]!));
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw invalidKey(`rsa modulus of ${bits} bits is outside ${MIN_RSA_BITS}..${MAX_RSA_BITS}`);
  }
  return toKeyObject({ kty: "RSA", n: n.toString("base64url"), e: e.toString("base64url") });
}

function parseEcdsa(reader: SshWireReader, curve: EcdsaCurve): KeyObject {
  const name = reader.readText("ecdsa curve name");
  if (name !== curve.sshName) throw invalidKey(`curve ${name} does not match key type (want ${curve.sshName})`);
  const point = reader.readString("ecdsa point");
  ensureConsumed(reader);
  if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) {
    throw invalidKey(`invalid ${curve.sshName} point: want ${1 + 2 * curve.size} bytes uncompressed (04||X||Y)`);
  }
  const x = point.subarray(1, 1 + curve.size).toString("base64url");
  const y = point.subarray(1 + curve.size).toString("base64url");
  return toKeyObject({ kty: "EC", crv: curve.jwkCurve, x, y });
}

/**
 * Parses and validates a wire-format key blob (`string type` ‖ type-specific fields, nothing after).
 * Throws GatewayError INVALID_ARGUMENT whose message is the parser reason (callers add their prefix).
 */
export function parseSshPublicKeyBlob(blob: Uint8Array, comment = ""): SshPublicKey {
  const bytes = Buffer.from(blob);
  let reader: SshWireReader;
  let type: string;
  let keyObject: KeyObject;
  try {
    reader = new SshWireReader(bytes);
    type = reader.readText("key type");
    const curve = ecdsaCurveOf(type);
    if (type === "ssh-ed25519") keyObject = parseEd25519(reader);
    else if (type === "ssh-rsa") keyObject = parseRsa(reader);
    else if (curve !== undefined) keyObject = parseEcdsa(reader, curve);
    else throw invalidKey(`unsupported key type ${JSON.stringify(type)}`);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw invalidKey(describeError(err), err);
  }
  return { type: type as SshKeyType, blob: bytes, fingerprint: sshFingerprint(bytes), keyObject, comment };
}

/** Splits on spaces/tabs, keeping a double-quoted run (options such as `command="a b"`) inside one field. */
function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = "";
  let isQuoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i]!;
    if (isQuoted) {
      if (ch === "\\" && line[i + 1] === '"') {
        current += '\\"';
        i += 1;
        continue;
      }
      if (ch === '"') isQuoted = false;
      current += ch;
      continue;
    }
    if (ch === " " || ch === "\t") {
      if (current !== "") fields.push(current);
      current = "";
      continue;
    }
    if (ch === '"') isQuoted = true;
    current += ch;
  }
  if (current !== "") fields.push(current);
  return fields;
}

/**
 * Parses one authorized_keys line `[options] <type> <base64 blob> [comment]` (auth.md §5.3): leading option
 * fields are skipped up to the first key-type word, the blob is strict base64 and its own leading string names
 * the algorithm. Used for `x-ssh-pubkey` and `CreatePrincipal.pubkey`.
 * Throws GatewayError INVALID_ARGUMENT whose message is the parser reason.
 */
export function parseAuthorizedKey(line: string): SshPublicKey {
  const trimmed = line.trim();
  if (trimmed === "") throw invalidKey("empty key line");
  if (trimmed.startsWith("#")) throw invalidKey("line is a comment");
  const fields = splitFields(trimmed);
  const typeIndex = fields.findIndex((field) => TYPE_WORD.test(field));
  if (typeIndex < 0) throw invalidKey("no key type found");
  const encoded = fields[typeIndex + 1];
  if (encoded === undefined) throw invalidKey(`missing base64 key data after ${fields[typeIndex]}`);
  let blob: Buffer;
  try {
    blob = decodeStrictBase64(encoded);
  } catch (err) {
    throw invalidKey(`invalid base64 key data: ${describeError(err)}`, err);
  }
  return parseSshPublicKeyBlob(blob, fields.slice(typeIndex + 2).join(" "));
}

function jwkField(jwk: Record<string, unknown>, name: string): Buffer {
  const value = jwk[name];
  if (typeof value !== "string") throw invalidKey(`public key JWK lacks ${name}`);
  return Buffer.from(value, "base64url");
}

/**
 * Encodes a node:crypto public (or private, whose public half is used) key as an SSH wire blob.
 * Supports Ed25519, RSA and ECDSA P-256/384/521; throws GatewayError INVALID_ARGUMENT for anything else.
 */
export function sshPublicKeyBlob(key: KeyObject): Buffer {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: "jwk" }) as Record<string, unknown>;
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") {
    return Buffer.concat([encodeString("ssh-ed25519"), encodeString(jwkField(jwk, "x"))]);
  }
  if (jwk.kty === "RSA") {
    return Buffer.concat([encodeString("ssh-rsa"), encodeUnsignedMpint(jwkField(jwk, "e")), encodeUnsignedMpint(jwkField(jwk, "n"))]);
  }
  if (jwk.kty === "EC") {
    const [type, curve] = Object.entries(ECDSA_CURVES).find(([, c]) => c.jwkCurve === jwk.crv) ?? [];
    if (type !== undefined && curve !== undefined) {
      const point = Buffer.concat([Buffer.from([4]), jwkField(jwk, "x"), jwkField(jwk, "y")]);
      return Buffer.concat([encodeString(type), encodeString(curve.sshName), encodeString(point)]);
    }
  }
  throw invalidKey(`unsupported key for SSH encoding: ${String(jwk.kty)} ${String(jwk.crv ?? "")}`.trim());
}

/** Renders a key as an authorized_keys line `<type> <base64 blob>[ <comment>]`. */
export function formatAuthorizedKey(key: KeyObject, comment = ""): string {
  const blob = sshPublicKeyBlob(key);
  const type = new SshWireReader(blob).readText("key type");
  return [type, blob.toString("base64"), comment].filter((part) => part !== "").join(" ");
}
