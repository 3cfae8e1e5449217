// ABOUTME: Key pairs for tests: generated as PEM text and loaded into fresh KeyObjects, never used as generated.
// ABOUTME: Avoids a Node 20 deadlock: exporting a generated key (JWK) while a GC finalizes its generation job.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";

export interface TestKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export type TestKeyKind = "ed25519" | "rsa-2048" | "p256" | "p384" | "p521" | "secp256k1";

/**
 * A new key pair of `kind`. node:crypto's generated KeyObjects share their key data with the generation job, and
 * Node 20 can deadlock when that job is garbage-collected while the key is being exported (seen as a vitest worker
 * hung in `ExportJWKEdKey` → GC → `~KeyGenJob` → `uv_mutex_lock`). Keys parsed from the PEM text share nothing with
 * the job.
 */
export function testKeyPair(kind: TestKeyKind): TestKeyPair {
  const pem = generatePem(kind);
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

function generatePem(kind: TestKeyKind): string {
  switch (kind) {
    case "ed25519":
      return generateKeyPairSync("ed25519", { publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } }).privateKey;
    case "rsa-2048":
      return generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } }).privateKey;
    case "p256":
      return generateKeyPairSync("ec", { namedCurve: "P-256", publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } }).privateKey;
    case "p384":
      return generateKeyPairSync("ec", { namedCurve: "P-384", publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } }).privateKey;
    case "p521":
      return generateKeyPairSync("ec", { namedCurve: "P-521", publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } }).privateKey;
    case "secp256k1":
      return generateKeyPairSync("ec", { namedCurve: "secp256k1", publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } }).privateKey;
  }
}
