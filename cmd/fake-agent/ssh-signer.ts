// ABOUTME: Client side of the gateway's SSH-signature agent auth (shared/spec/auth.md §5) using node:crypto only.
// ABOUTME: Reads unencrypted OpenSSH (openssh-key-v1) ed25519/RSA keys and builds the x-ssh-* call metadata.
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";

/** A private key usable for agent auth, with its SSH public key blob. */
export interface SshKey {
  type: "ssh-ed25519" | "ssh-rsa";
  /** The SSH wire public key blob (the base64 field of an authorized_keys line). */
  publicBlob: Buffer;
  privateKey: KeyObject;
  comment: string;
}

const MAGIC = Buffer.from("openssh-key-v1\0", "latin1");

class SshReader {
  #at = 0;
  constructor(readonly buf: Buffer) {}

  uint32(): number {
    if (this.#at + 4 > this.buf.length) throw new Error("truncated key data");
    const v = this.buf.readUInt32BE(this.#at);
    this.#at += 4;
    return v;
  }

  bytes(): Buffer {
    const len = this.uint32();
    if (this.#at + len > this.buf.length) throw new Error("truncated key data");
    const out = this.buf.subarray(this.#at, this.#at + len);
    this.#at += len;
    return out;
  }

  text(): string {
    return this.bytes().toString("utf8");
  }
}

/** SSH `string`: uint32 big-endian length, then the bytes. */
export function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** SSH `mpint` of an unsigned big-endian magnitude (a 0x00 byte is prepended when the top bit is set). */
export function sshMpint(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const body = trimmed.length > 0 && (trimmed[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return sshString(body);
}

function unsigned(mpint: Buffer): Buffer {
  let start = 0;
  while (start < mpint.length - 1 && mpint[start] === 0) start++;
  return mpint.subarray(start);
}

const b64url = (buf: Buffer) => buf.toString("base64url");
const big = (buf: Buffer) => (buf.length === 0 ? 0n : BigInt("0x" + buf.toString("hex")));
function bigToBuf(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? "0" + hex : hex, "hex");
}

function rsaBlob(e: Buffer, n: Buffer): Buffer {
  return Buffer.concat([sshString("ssh-rsa"), sshMpint(e), sshMpint(n)]);
}

function ed25519Blob(pub: Buffer): Buffer {
  return Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
}

function parseOpenSshBody(data: Buffer): SshKey {
  if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error("not an openssh-key-v1 key");
  const r = new SshReader(data.subarray(MAGIC.length));
  const cipher = r.text();
  const kdf = r.text();
  r.bytes();
  if (cipher !== "none" || kdf !== "none") throw new Error(`encrypted keys are not supported (cipher ${cipher})`);
  const count = r.uint32();
  if (count !== 1) throw new Error(`expected exactly one key, found ${count}`);
  const publicBlob = Buffer.from(r.bytes());
  const priv = new SshReader(r.bytes());
  if (priv.uint32() !== priv.uint32()) throw new Error("corrupt private section (check values differ)");
  const type = priv.text();
  if (type === "ssh-ed25519") {
    const pub = priv.bytes();
    const secret = priv.bytes();
    if (pub.length !== 32 || secret.length !== 64) throw new Error("malformed ed25519 key");
    const privateKey = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64url(secret.subarray(0, 32)), x: b64url(pub) }, format: "jwk" });
    return { type, publicBlob, privateKey, comment: priv.text() };
  }
  if (type === "ssh-rsa") {
    const [n, e, d, iqmp, p, q] = [priv.bytes(), priv.bytes(), priv.bytes(), priv.bytes(), priv.bytes(), priv.bytes()].map(unsigned) as [
      Buffer, Buffer, Buffer, Buffer, Buffer, Buffer,
    ];
    const dBig = big(d);
    const jwk = {
      kty: "RSA",
      n: b64url(n),
      e: b64url(e),
      d: b64url(d),
      p: b64url(p),
      q: b64url(q),
      dp: b64url(bigToBuf(dBig % (big(p) - 1n))),
      dq: b64url(bigToBuf(dBig % (big(q) - 1n))),
      qi: b64url(iqmp),
    };
    return { type, publicBlob, privateKey: createPrivateKey({ key: jwk, format: "jwk" }), comment: priv.text() };
  }
  throw new Error(`unsupported key type ${type}`);
}

/** SshKey from a PEM key node:crypto understands (PKCS#8, PKCS#1), for convenience. */
function fromPem(text: string): SshKey {
  const privateKey = createPrivateKey(text);
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  if (privateKey.asymmetricKeyType === "ed25519") {
    return { type: "ssh-ed25519", publicBlob: ed25519Blob(Buffer.from(jwk.x as string, "base64url")), privateKey, comment: "" };
  }
  if (privateKey.asymmetricKeyType === "rsa") {
    const blob = rsaBlob(Buffer.from(jwk.e as string, "base64url"), Buffer.from(jwk.n as string, "base64url"));
    return { type: "ssh-rsa", publicBlob: blob, privateKey, comment: "" };
  }
  throw new Error(`unsupported key type ${privateKey.asymmetricKeyType ?? "unknown"}`);
}

/** Parses an unencrypted OpenSSH private key file's text (ed25519 or RSA). Throws Error with the reason. */
export function parseOpenSshPrivateKey(text: string): SshKey {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (m === null) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return fromPem(text);
    throw new Error("not an OpenSSH private key");
  }
  return parseOpenSshBody(Buffer.from((m[1] as string).replace(/\s+/g, ""), "base64"));
}

/** Reads a key file. Throws `ssh key error: <path>: <detail>`. */
export function loadSshKey(path: string): SshKey {
  try {
    return parseOpenSshPrivateKey(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`ssh key error: ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The authorized_keys form `<type> <base64 blob>` sent as `x-ssh-pubkey`. */
export function sshPublicKeyLine(key: SshKey): string {
  return `${key.type} ${key.publicBlob.toString("base64")}`;
}

/** Signs `data` and returns the SSH wire signature (`string format ‖ string blob`); RSA uses rsa-sha2-256. */
export function sshSign(key: SshKey, data: Buffer): Buffer {
  if (key.type === "ssh-ed25519") return Buffer.concat([sshString("ssh-ed25519"), sshString(sign(null, data, key.privateKey))]);
  return Buffer.concat([sshString("rsa-sha2-256"), sshString(sign("sha256", data, key.privateKey))]);
}

/**
 * Fresh `x-ssh-*` metadata for one call: timestamp in Unix seconds, a 32-hex-char nonce, and the signature over
 * the ASCII bytes `<timestamp>|<nonce>`. `nowMs`/`nonce` are injectable for tests.
 */
export function sshAuthMetadata(key: SshKey, options: { nowMs?: number; nonce?: string } = {}): Record<string, string> {
  const timestamp = String(Math.floor((options.nowMs ?? Date.now()) / 1000));
  const nonce = options.nonce ?? randomBytes(16).toString("hex");
  const signature = sshSign(key, Buffer.from(`${timestamp}|${nonce}`, "ascii"));
  return {
    "x-ssh-pubkey": sshPublicKeyLine(key),
    "x-ssh-signature": signature.toString("base64"),
    "x-ssh-timestamp": timestamp,
    "x-ssh-nonce": nonce,
  };
}
