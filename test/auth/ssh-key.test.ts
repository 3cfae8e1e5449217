// ABOUTME: Tests SSH public-key parsing, validation, fingerprints and encoding (auth.md §5, §5.2, §5.3).
// ABOUTME: Vectors come from the spec and from ssh-keygen, so parser and encoder are pinned to OpenSSH.
import { createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import {
  formatAuthorizedKey,
  parseAuthorizedKey,
  parseSshPublicKeyBlob,
  sshFingerprint,
  sshPublicKeyBlob,
} from "../../src/auth/ssh-key.js";
import { encodeString, encodeUnsignedMpint } from "../../src/auth/ssh-wire.js";
import { OPENSSH_ECDSA256_PRIVATE_PEM, OPENSSH_KEYS, SPEC_ED25519, specEd25519PrivateKey } from "./ssh-vectors.js";
import { testKeyPair } from "../support/key-pairs.js";

function parseError(line: string): string {
  try {
    parseAuthorizedKey(line);
  } catch (err) {
    expect(isGatewayError(err, "INVALID_ARGUMENT")).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(line)} to be rejected`);
}

function lineOf(blob: Buffer, type = "ssh-ed25519"): string {
  return `${type} ${blob.toString("base64")}`;
}

const SPEC_PUBLIC = Buffer.from(SPEC_ED25519.publicKeyHex, "hex");
const SPEC_BLOB = Buffer.concat([encodeString("ssh-ed25519"), encodeString(SPEC_PUBLIC)]);

describe("parseAuthorizedKey: the auth.md §5.2 worked example", () => {
  it("decodes the 51-byte blob and fingerprints it as the spec says", () => {
    const key = parseAuthorizedKey(SPEC_ED25519.authorizedKey);
    expect(key.type).toBe("ssh-ed25519");
    expect(key.blob.length).toBe(51);
    expect(key.blob.toString("hex")).toBe(`0000000b${Buffer.from("ssh-ed25519").toString("hex")}00000020${SPEC_ED25519.publicKeyHex}`);
    expect(key.fingerprint).toBe(SPEC_ED25519.fingerprint);
    expect(key.comment).toBe("example@coven");
    const spki = key.keyObject.export({ format: "der", type: "spki" });
    expect(spki.subarray(-32).toString("hex")).toBe(SPEC_ED25519.publicKeyHex);
  });

  it("encodes the spec's private key as the spec's authorized_keys line", () => {
    expect(formatAuthorizedKey(specEd25519PrivateKey(), "example@coven")).toBe(SPEC_ED25519.authorizedKey);
    expect(sshPublicKeyBlob(specEd25519PrivateKey()).equals(SPEC_BLOB)).toBe(true);
  });

  it("fingerprints a blob as lowercase hex SHA-256", () => {
    expect(sshFingerprint(SPEC_BLOB)).toBe(SPEC_ED25519.fingerprint);
  });
});

describe("parseAuthorizedKey: keys written by ssh-keygen", () => {
  for (const [name, vector] of Object.entries(OPENSSH_KEYS).filter(([name]) => name !== "dsa")) {
    it(`${name}: matches OpenSSH's fingerprint and re-encodes to the same blob`, () => {
      const key = parseAuthorizedKey(vector.line);
      expect(key.fingerprint).toBe(vector.fingerprint);
      expect(key.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(key.comment).toBe(vector.line.split(" ")[2]);
      expect(sshPublicKeyBlob(key.keyObject).equals(key.blob)).toBe(true);
    });
  }

  it("encodes an ECDSA key loaded from PEM exactly as ssh-keygen did", () => {
    const blob = sshPublicKeyBlob(createPublicKey(OPENSSH_ECDSA256_PRIVATE_PEM));
    expect(blob.toString("base64")).toBe(OPENSSH_KEYS.ecdsa256.line.split(" ")[1]);
  });

  it("refuses DSA keys", () => {
    expect(parseError(OPENSSH_KEYS.dsa.line)).toBe('unsupported key type "ssh-dss"');
  });
});

describe("parseAuthorizedKey: line syntax", () => {
  const blob64 = SPEC_BLOB.toString("base64");

  it("skips leading options, including quoted ones containing spaces and type words", () => {
    expect(parseAuthorizedKey(`from="10.0.0.1,host.example" ssh-ed25519 ${blob64} c`).fingerprint).toBe(SPEC_ED25519.fingerprint);
    const quoted = parseAuthorizedKey(`command="echo ssh-rsa x",no-pty ssh-ed25519 ${blob64} me@host`);
    expect(quoted.fingerprint).toBe(SPEC_ED25519.fingerprint);
    expect(quoted.comment).toBe("me@host");
  });

  it("accepts tabs, surrounding whitespace and a missing comment", () => {
    const key = parseAuthorizedKey(`\t ssh-ed25519\t${blob64}  \n`);
    expect(key.fingerprint).toBe(SPEC_ED25519.fingerprint);
    expect(key.comment).toBe("");
  });

  it("treats the type word as informational: the blob's own type wins", () => {
    expect(parseAuthorizedKey(`ssh-rsa ${blob64}`).type).toBe("ssh-ed25519");
  });

  it("rejects empty lines, comments and lines without a type word or blob", () => {
    expect(parseError("   ")).toBe("empty key line");
    expect(parseError("# ssh-ed25519 AAAA")).toBe("line is a comment");
    expect(parseError(blob64)).toBe("no key type found");
    expect(parseError("ssh-ed25519")).toBe("missing base64 key data after ssh-ed25519");
  });

  it("requires strict standard base64", () => {
    const padded = OPENSSH_KEYS.ecdsa256.line.split(" ")[1]!;
    expect(padded.endsWith("=")).toBe(true);
    expect(parseError(`ecdsa-sha2-nistp256 ${padded.replace(/=+$/, "")}`)).toMatch(/^invalid base64 key data: /);
    expect(parseError(`ssh-ed25519 ${blob64.replace("+", "-")}`)).toMatch(/^invalid base64 key data: illegal base64 data/);
    expect(parseError("ssh-ed25519 AB==")).toMatch(/non-canonical/);
    expect(parseError("ssh-ed25519 A*==")).toMatch(/^invalid base64 key data/);
  });
});

describe("parseSshPublicKeyBlob: blob validation", () => {
  const reason = (blob: Buffer) => parseError(lineOf(blob));

  it("rejects truncated and over-long blobs", () => {
    expect(reason(SPEC_BLOB.subarray(0, 30))).toMatch(/ed25519 key length 32 exceeds remaining/);
    expect(reason(SPEC_BLOB.subarray(0, 2))).toMatch(/short read of key type/);
    expect(reason(Buffer.concat([SPEC_BLOB, Buffer.from([0])]))).toBe("trailing 1 bytes after key blob");
  });

  it("rejects an Ed25519 key of the wrong size", () => {
    const blob = Buffer.concat([encodeString("ssh-ed25519"), encodeString(SPEC_PUBLIC.subarray(0, 31))]);
    expect(reason(blob)).toBe("invalid size 31 for Ed25519 public key");
  });

  it("rejects security-key and certificate key types", () => {
    expect(reason(Buffer.concat([encodeString("sk-ssh-ed25519@openssh.com"), encodeString(SPEC_PUBLIC)]))).toMatch(/unsupported key type/);
    expect(reason(Buffer.concat([encodeString("ssh-ed25519-cert-v01@openssh.com"), encodeString(SPEC_PUBLIC)]))).toMatch(
      /unsupported key type/,
    );
  });

  it("validates RSA exponent and modulus size", () => {
    const n2048 = Buffer.alloc(256, 0xab);
    const rsa = (e: Buffer, n: Buffer) => Buffer.concat([encodeString("ssh-rsa"), encodeUnsignedMpint(e), encodeUnsignedMpint(n)]);
    expect(reason(rsa(Buffer.from([0x01, 0x00, 0x00]), n2048))).toBe("incorrect rsa exponent");
    expect(reason(rsa(Buffer.from([0x01, 0x00, 0x00, 0x01]), n2048))).toBe("rsa exponent too large");
    expect(reason(rsa(Buffer.from([0x01, 0x00, 0x01]), Buffer.alloc(64, 0xab)))).toBe("rsa modulus of 512 bits is outside 1024..16384");
    const negative = Buffer.concat([encodeString("ssh-rsa"), encodeString(Buffer.from([0x01, 0x00, 0x01])), encodeString(n2048)]);
    expect(reason(negative)).toBe("rsa modulus is negative");
  });

  it("validates the ECDSA curve name and point", () => {
    const good = parseAuthorizedKey(OPENSSH_KEYS.ecdsa256.line).blob;
    const point = good.subarray(good.length - 65);
    const ec = (curve: string, p: Buffer) => Buffer.concat([encodeString("ecdsa-sha2-nistp256"), encodeString(curve), encodeString(p)]);
    expect(reason(ec("nistp384", point))).toBe("curve nistp384 does not match key type (want nistp256)");
    expect(reason(ec("nistp256", point.subarray(0, 33)))).toMatch(/invalid nistp256 point/);
    const offCurve = Buffer.from(point);
    offCurve[64] = offCurve[64]! ^ 1;
    expect(reason(ec("nistp256", offCurve))).toMatch(/^key material rejected: /);
  });

  it("keeps the comment it is given", () => {
    expect(parseSshPublicKeyBlob(SPEC_BLOB, "note").comment).toBe("note");
  });
});

describe("sshPublicKeyBlob / formatAuthorizedKey with node-generated keys", () => {
  it("round-trips Ed25519, RSA 2048 and ECDSA P-384 keys", () => {
    const keys = [
      testKeyPair("ed25519").publicKey,
      testKeyPair("rsa-2048").publicKey,
      testKeyPair("p384").publicKey,
    ];
    const types = keys.map((key) => {
      const parsed = parseAuthorizedKey(formatAuthorizedKey(key, "gen"));
      expect(parsed.fingerprint).toBe(sshFingerprint(sshPublicKeyBlob(key)));
      expect(parsed.keyObject.equals(key)).toBe(true);
      return parsed.type;
    });
    expect(types).toEqual(["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp384"]);
  });

  it("refuses keys SSH cannot carry", () => {
    const { publicKey } = testKeyPair("secp256k1");
    expect(() => sshPublicKeyBlob(publicKey)).toThrow(/unsupported key for SSH encoding/);
  });
});
