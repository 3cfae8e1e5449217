// ABOUTME: Test helpers for SSH agent auth: writes an unencrypted openssh-key-v1 ed25519 file from a raw seed, and
// ABOUTME: verifies x-ssh-* metadata exactly as the gateway must (shared/spec/auth.md §5) with node:crypto alone.
import { createPrivateKey, createPublicKey, verify } from "node:crypto";
import { sshString } from "../../../cmd/fake-agent/ssh-signer.js";

/** The raw 32-byte public key of an ed25519 seed. */
export function ed25519PublicFromSeed(seed: Buffer): Buffer {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const priv = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  return createPublicKey(priv).export({ format: "der", type: "spki" }).subarray(-32);
}

/** An OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`) holding the ed25519 key of `seed`. */
export function openSshEd25519File(seed: Buffer, comment = "test"): string {
  const pub = ed25519PublicFromSeed(seed);
  const blob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const check = Buffer.from([1, 2, 3, 4]);
  let priv = Buffer.concat([check, check, sshString("ssh-ed25519"), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const nkeys = Buffer.alloc(4);
  nkeys.writeUInt32BE(1);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    nkeys,
    sshString(blob),
    sshString(priv),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

class Reader {
  #at = 0;
  constructor(readonly buf: Buffer) {}
  bytes(): Buffer {
    const len = this.buf.readUInt32BE(this.#at);
    const out = this.buf.subarray(this.#at + 4, this.#at + 4 + len);
    if (out.length !== len) throw new Error("truncated");
    this.#at += 4 + len;
    return out;
  }
  text(): string {
    return this.bytes().toString("latin1");
  }
}

function stripSign(mpint: Buffer): Buffer {
  let i = 0;
  while (i < mpint.length - 1 && mpint[i] === 0) i++;
  return mpint.subarray(i);
}

/**
 * Checks x-ssh-* metadata the way the gateway does (auth.md §5 steps 1-5, 9-11; no clock/replay checks):
 * returns the key blob on success, throws with a reason otherwise.
 */
export function verifySshMetadata(md: Record<string, string | undefined>): Buffer {
  const pubkey = (md["x-ssh-pubkey"] ?? "").trim();
  const signature = (md["x-ssh-signature"] ?? "").trim();
  const nonce = (md["x-ssh-nonce"] ?? "").trim();
  const tsText = md["x-ssh-timestamp"] ?? "";
  const ts = /^[+-]?\d+$/.test(tsText) ? BigInt(tsText) : 0n;
  if (!pubkey || !signature || ts === 0n || !nonce) throw new Error("missing SSH metadata");
  const blob = Buffer.from(pubkey.split(/[ \t]+/)[1] ?? "", "base64");
  const keyReader = new Reader(blob);
  const alg = keyReader.text();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(signature) || signature.length % 4 !== 0) throw new Error("invalid signature encoding");
  const sigReader = new Reader(Buffer.from(signature, "base64"));
  const format = sigReader.text();
  let sigBlob = sigReader.bytes();
  const signed = Buffer.from(`${ts < 0n ? -ts : ts}|${nonce}`, "ascii");
  let ok: boolean;
  if (alg === "ssh-ed25519") {
    if (format !== "ssh-ed25519") throw new Error(`signature type ${format} for key type ${alg}`);
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: keyReader.bytes().toString("base64url") }, format: "jwk" });
    ok = verify(null, signed, key, sigBlob);
  } else if (alg === "ssh-rsa") {
    const hash = format === "rsa-sha2-256" ? "sha256" : format === "rsa-sha2-512" ? "sha512" : undefined;
    if (hash === undefined) throw new Error(`signature type ${format} for key type ${alg}`);
    const e = stripSign(keyReader.bytes());
    const n = stripSign(keyReader.bytes());
    if (sigBlob.length < n.length) sigBlob = Buffer.concat([Buffer.alloc(n.length - sigBlob.length), sigBlob]);
    const key = createPublicKey({ key: { kty: "RSA", n: n.toString("base64url"), e: e.toString("base64url") }, format: "jwk" });
    ok = verify(hash, signed, key, sigBlob);
  } else {
    throw new Error(`unsupported key type ${alg}`);
  }
  if (!ok) throw new Error("ssh: signature did not verify");
  return blob;
}
