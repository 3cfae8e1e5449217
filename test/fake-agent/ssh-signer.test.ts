// ABOUTME: The fake agent's SSH-signature client auth: the auth.md §5.2 ed25519 test vector, ssh-keygen keys (ed25519
// ABOUTME: and RSA) verified per the spec's rules with node:crypto, key-file errors, and the metadata on the wire.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startFakeAgent, type FakeAgentHandle } from "../../cmd/fake-agent/fake-agent.js";
import { loadSshKey, parseOpenSshPrivateKey, sshAuthMetadata, sshPublicKeyLine } from "../../cmd/fake-agent/ssh-signer.js";
import { startFakeServer, type FakeServer } from "./support/fake-server.js";
import { ed25519PublicFromSeed, openSshEd25519File, verifySshMetadata } from "./support/openssh-key.js";

const dir = mkdtempSync(join(tmpdir(), "fake-agent-ssh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hasSshKeygen(): boolean {
  try {
    execFileSync("ssh-keygen", ["-?"], { stdio: "ignore" });
    return true;
  } catch (err) {
    return (err as { status?: number }).status !== undefined && (err as { code?: string }).code !== "ENOENT";
  }
}
const sshKeygen = hasSshKeygen();

function keygen(name: string, args: string[]): string {
  const path = join(dir, name);
  execFileSync("ssh-keygen", [...args, "-C", "test@coven", "-q", "-f", path], { stdio: "ignore" });
  return path;
}

describe("auth.md §5.2 worked example", () => {
  const seed = Buffer.from("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", "hex");

  it("reproduces the public key, fingerprint and signature bytes exactly", () => {
    expect(ed25519PublicFromSeed(seed).toString("hex")).toBe("79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664");
    const key = parseOpenSshPrivateKey(openSshEd25519File(seed, "example@coven"));
    expect(key.type).toBe("ssh-ed25519");
    expect(key.comment).toBe("example@coven");
    expect(sshPublicKeyLine(key)).toBe("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk");
    expect(createHash("sha256").update(key.publicBlob).digest("hex")).toBe("7959022879dce518da9c176e536be639e71b165dccf703a01dd936e08349cad6");
    const md = sshAuthMetadata(key, { nowMs: 1_700_000_000_999, nonce: "00112233445566778899aabbccddeeff" });
    expect(md).toEqual({
      "x-ssh-pubkey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
      "x-ssh-timestamp": "1700000000",
      "x-ssh-nonce": "00112233445566778899aabbccddeeff",
      "x-ssh-signature": "AAAAC3NzaC1lZDI1NTE5AAAAQJ0ml4fjE61m2qM0P39H7fJK9mQ5s8QKlCCQnrlSMXRVuPak75sCgEGrSvH8cssoEmNyPmTfmIh8Mp1x3mHDogs=",
    });
    verifySshMetadata(md);
  });

  it("signs fresh values per call: current Unix seconds and a 32-hex-char nonce", () => {
    const key = parseOpenSshPrivateKey(openSshEd25519File(seed));
    const a = sshAuthMetadata(key);
    const b = sshAuthMetadata(key);
    expect(a["x-ssh-nonce"]).toMatch(/^[0-9a-f]{32}$/);
    expect(a["x-ssh-nonce"]).not.toBe(b["x-ssh-nonce"]);
    expect(Math.abs(Number(a["x-ssh-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
    verifySshMetadata(a);
  });

  it("produces a signature that fails verification for other signed bytes", () => {
    const key = parseOpenSshPrivateKey(openSshEd25519File(seed));
    const md = sshAuthMetadata(key, { nowMs: 1_700_000_000_000, nonce: "n1" });
    expect(() => verifySshMetadata({ ...md, "x-ssh-nonce": "n2" })).toThrow("signature did not verify");
  });
});

describe.skipIf(!sshKeygen)("ssh-keygen keys", () => {
  it.each([
    ["ed25519", ["-t", "ed25519", "-N", ""], "ssh-ed25519"],
    ["rsa", ["-t", "rsa", "-b", "2048", "-N", ""], "ssh-rsa"],
  ])("signs with a %s key so the spec's verifier accepts it", (name, args, type) => {
    const path = keygen(`id_${name}`, args);
    const key = loadSshKey(path);
    expect(key.type).toBe(type);
    const pubFile = readFileSync(`${path}.pub`, "utf8").trim();
    expect(pubFile.startsWith(sshPublicKeyLine(key) + " ")).toBe(true);
    const md = sshAuthMetadata(key);
    const blob = verifySshMetadata(md);
    const openSshFingerprint = execFileSync("ssh-keygen", ["-lf", `${path}.pub`, "-E", "sha256"], { encoding: "utf8" }).split(" ")[1];
    expect(`SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`).toBe(openSshFingerprint);
    if (type === "ssh-rsa") expect(Buffer.from(md["x-ssh-signature"]!, "base64").subarray(4, 16).toString()).toBe("rsa-sha2-256");
  });

  it("refuses an encrypted key", () => {
    const path = keygen("id_locked", ["-t", "ed25519", "-N", "secret-pass"]);
    expect(() => loadSshKey(path)).toThrow(`ssh key error: ${path}: encrypted keys are not supported (cipher aes256-ctr)`);
  });
});

describe("key file errors", () => {
  it("names the path for unreadable and malformed files", () => {
    const missing = join(dir, "missing");
    expect(() => loadSshKey(missing)).toThrow(new RegExp(`^ssh key error: ${missing}: ENOENT`));
    const junk = join(dir, "junk");
    writeFileSync(junk, "not a key\n");
    expect(() => loadSshKey(junk)).toThrow(`ssh key error: ${junk}: not an OpenSSH private key`);
  });
});

describe("-ssh-key on the wire", () => {
  let server: FakeServer | undefined;
  let agent: FakeAgentHandle | undefined;
  afterEach(async () => {
    await agent?.close();
    await server?.close();
  });

  it("sends verifiable x-ssh-* metadata and no bearer token even when -token is set", async () => {
    const path = join(dir, "agent_key");
    writeFileSync(path, openSshEd25519File(Buffer.alloc(32, 7)));
    server = await startFakeServer();
    agent = await startFakeAgent({ addr: server.addr, sshKeyPath: path, token: "ignored", log: () => {} });
    const conn = await server.connection(0);
    expect(conn.metadata.authorization).toBeUndefined();
    expect(conn.metadata["x-ssh-pubkey"]).toBe(sshPublicKeyLine(loadSshKey(path)));
    verifySshMetadata(conn.metadata);
  });
});
