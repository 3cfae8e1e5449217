// ABOUTME: The pure parts of `coven-admin chat`'s terminal prompts and spinner: answer mapping (cli.md §3.9),
// ABOUTME: the line source shared by REPL and prompts, and the spinner drawing nothing off a TTY.
import { describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { createLineSource, parseApprovalAnswer, parseQuestionAnswer } from "../../cmd/coven-admin/chat-prompts.js";
import { chatHttpBase } from "../../cmd/coven-admin/chat.js";
import { startSpinner } from "../../cmd/coven-admin/spinner.js";

describe("approval answers", () => {
  it("maps y to approved, a to approve-all, and n, empty or anything else to denied", () => {
    expect(parseApprovalAnswer("y")).toEqual({ approved: true, approveAll: false });
    expect(parseApprovalAnswer(" YES ")).toEqual({ approved: true, approveAll: false });
    expect(parseApprovalAnswer("a")).toEqual({ approved: true, approveAll: true });
    expect(parseApprovalAnswer("all")).toEqual({ approved: true, approveAll: true });
    for (const no of ["n", "no", "", "  ", "maybe"]) expect(parseApprovalAnswer(no)).toEqual({ approved: false, approveAll: false });
  });
});

describe("question answers", () => {
  const options = [{ label: "red" }, { label: "green" }, { label: "blue" }];
  it("maps numbers to labels, several comma-separated, and other text to custom_text", () => {
    expect(parseQuestionAnswer("2", options)).toEqual({ selected: ["green"] });
    expect(parseQuestionAnswer("1, 3", options)).toEqual({ selected: ["red", "blue"] });
    expect(parseQuestionAnswer("3,3", options)).toEqual({ selected: ["blue"] });
    expect(parseQuestionAnswer("purple please", options)).toEqual({ selected: [], customText: "purple please" });
  });
  it("asks again for an empty answer or a number out of range", () => {
    expect(parseQuestionAnswer("", options)).toBeUndefined();
    expect(parseQuestionAnswer("0", options)).toBeUndefined();
    expect(parseQuestionAnswer("4", options)).toBeUndefined();
  });
});

describe("line source", () => {
  it("queues lines typed ahead, lets an aborted wait give up without eating the next line, and ends with null", async () => {
    const input = new PassThrough();
    const lines = createLineSource(input);
    input.write("one\ntwo\n");
    expect(await lines.next()).toBe("one");
    expect(await lines.next()).toBe("two");
    const abort = new AbortController();
    const waiting = lines.next(abort.signal);
    abort.abort();
    expect(await waiting).toBeNull();
    input.write("three\n");
    expect(await lines.next()).toBe("three");
    input.end();
    expect(await lines.next()).toBeNull();
    lines.close();
  });
});

describe("spinner", () => {
  it("draws nothing when the stream is not a TTY, and draws then erases on a TTY", () => {
    const plain = new PassThrough();
    let written = "";
    plain.on("data", (d: Buffer) => (written += d.toString()));
    startSpinner(plain, "waiting for a").stop();
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    let drawn = "";
    tty.on("data", (d: Buffer) => (drawn += d.toString()));
    const s = startSpinner(tty, "waiting for a", 100, () => 0);
    s.stop();
    s.stop();
    plain.end();
    tty.end();
    expect(written).toBe("");
    expect(drawn).toBe("\r⠋ waiting for a 0s\u001b[K\r\u001b[K");
  });
});

describe("cancel target", () => {
  it("is $COVEN_GATEWAY_URL, else $COVEN_GATEWAY_HOST on :8080, else localhost:8080", () => {
    expect(chatHttpBase({ COVEN_GATEWAY_URL: "http://gw:9/", COVEN_GATEWAY_HOST: "h" })).toBe("http://gw:9");
    expect(chatHttpBase({ COVEN_GATEWAY_HOST: "h" })).toBe("http://h:8080");
    expect(chatHttpBase({})).toBe("http://localhost:8080");
  });
});
