// ABOUTME: Tests the SSH wire primitives: strict base64, string/mpint reading and writing, left padding.
// ABOUTME: These guard the encodings every SSH key and signature check relies on.
import { describe, expect, it } from "vitest";
import { decodeStrictBase64, encodeString, encodeUnsignedMpint, leftPad, SshWireReader } from "../../src/auth/ssh-wire.js";

describe("decodeStrictBase64", () => {
  it("decodes canonical padded base64", () => {
    expect(decodeStrictBase64("aGk=").toString()).toBe("hi");
    expect(decodeStrictBase64("").length).toBe(0);
  });

  it("refuses what Node's lenient decoder would accept", () => {
    for (const text of ["aGk", "aGl=", "aG k=", "aGk=\n", "aGk-", "a_k=", "aGk==", "=aGk"]) {
      expect(() => decodeStrictBase64(text), text).toThrow(/^illegal base64 data/);
    }
  });
});

describe("SshWireReader", () => {
  it("reads strings and text in sequence", () => {
    const reader = new SshWireReader(Buffer.concat([encodeString("ssh-ed25519"), encodeString(Buffer.from([1, 2]))]));
    expect(reader.readText("type")).toBe("ssh-ed25519");
    expect([...reader.readString("body")]).toEqual([1, 2]);
    expect(reader.remaining).toBe(0);
  });

  it("refuses short reads", () => {
    expect(() => new SshWireReader(Buffer.from([0, 0, 0])).readString("x")).toThrow("short read of x length");
    expect(() => new SshWireReader(Buffer.from([0, 0, 0, 5, 1])).readString("x")).toThrow("x length 5 exceeds remaining 1 bytes");
  });

  it("reads mpints as magnitudes and refuses negatives", () => {
    expect([...new SshWireReader(encodeString(Buffer.from([0, 0x80, 1]))).readUnsignedMpint("n")]).toEqual([0x80, 1]);
    expect(new SshWireReader(encodeString(Buffer.alloc(0))).readUnsignedMpint("n").length).toBe(0);
    expect(() => new SshWireReader(encodeString(Buffer.from([0x80]))).readUnsignedMpint("n")).toThrow("n is negative");
  });
});

describe("encoders", () => {
  it("encodes mpints minimally with a sign byte when the top bit is set", () => {
    expect(encodeUnsignedMpint(Buffer.from([0, 0, 0x7f])).toString("hex")).toBe("000000017f");
    expect(encodeUnsignedMpint(Buffer.from([0x80, 0])).toString("hex")).toBe("00000003008000");
    expect(encodeUnsignedMpint(Buffer.from([0, 0])).toString("hex")).toBe("00000000");
  });

  it("left-pads to a size and reports overflow", () => {
    expect(leftPad(Buffer.from([1, 2]), 4)?.toString("hex")).toBe("00000102");
    expect(leftPad(Buffer.from([1, 2, 3]), 2)).toBeUndefined();
  });
});
