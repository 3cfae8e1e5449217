// ABOUTME: Tests the ledger cursor: padded base64 of `seq:<n>`, strict decoding, and the page-size rule.
// ABOUTME: Garbage of every shape must decode to undefined so edges answer `invalid cursor`.
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, normalizePageLimit } from "../../src/store/cursor.js";

describe("encodeCursor", () => {
  it("is the standard padded base64 of seq:<n>", () => {
    expect(encodeCursor(1)).toBe("c2VxOjE=");
    expect(encodeCursor(42)).toBe(Buffer.from("seq:42").toString("base64"));
    expect(encodeCursor(123)).toBe("c2VxOjEyMw==");
  });

  it("round-trips", () => {
    for (const seq of [0, 1, 9, 10, 999, 123456789, Number.MAX_SAFE_INTEGER]) expect(decodeCursor(encodeCursor(seq))).toBe(seq);
  });
});

describe("decodeCursor", () => {
  const b64 = (s: string) => Buffer.from(s).toString("base64");

  it.each([
    ["empty", ""],
    ["not base64", "!!!!"],
    ["unpadded", "c2VxOjE"],
    ["url-safe alphabet", b64("seq:1023").replace(/\+/g, "-").replace(/\//g, "_") + "-"],
    ["whitespace", ` ${encodeCursor(5)}`],
    ["wrong prefix", b64("sek:5")],
    ["no number", b64("seq:")],
    ["negative", b64("seq:-1")],
    ["leading zero", b64("seq:01")],
    ["decimal point", b64("seq:1.5")],
    ["trailing text", b64("seq:5x")],
    ["trailing newline", b64("seq:5\n")],
    ["plain number", "5"],
    ["unsafe integer", b64("seq:9007199254740993")],
    ["non-canonical padding bits", "c2VxOjF="],
  ])("rejects %s", (_label, text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });
});

describe("normalizePageLimit", () => {
  it("defaults to 50, clamps to 500 and keeps values in between", () => {
    expect(normalizePageLimit(undefined)).toBe(50);
    expect(normalizePageLimit(0)).toBe(50);
    expect(normalizePageLimit(-3)).toBe(50);
    expect(normalizePageLimit(1)).toBe(1);
    expect(normalizePageLimit(500)).toBe(500);
    expect(normalizePageLimit(501)).toBe(500);
  });
});
