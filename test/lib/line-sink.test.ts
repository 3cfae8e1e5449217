// ABOUTME: Tests the log line sink: direct writes before deferral, one write per event-loop turn after it, order kept.
// ABOUTME: Also the byte cap that writes early and flush() on the way out.
import { describe, expect, it } from "vitest";
import { createLineSink } from "../../src/lib/line-sink.js";

function capture() {
  const writes: string[] = [];
  return { writes, target: { write: (chunk: string) => writes.push(chunk) } };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("line sink", () => {
  it("writes each line at once until deferral is switched on", () => {
    const { writes, target } = capture();
    const sink = createLineSink(target);
    sink.write("a\n");
    sink.write("b\n");
    expect(writes).toEqual(["a\n", "b\n"]);
  });

  it("coalesces the lines of one event-loop turn into one write, in order", async () => {
    const { writes, target } = capture();
    const sink = createLineSink(target);
    sink.defer();
    sink.write("one\n");
    sink.write("two\n");
    await Promise.resolve();
    sink.write("three\n");
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(["one\ntwo\nthree\n"]);
    sink.write("four\n");
    await nextTurn();
    expect(writes).toEqual(["one\ntwo\nthree\n", "four\n"]);
  });

  it("writes at once when the held bytes reach the cap", () => {
    const { writes, target } = capture();
    const sink = createLineSink(target, 8);
    sink.defer();
    sink.write("1234\n");
    expect(writes).toEqual([]);
    sink.write("5678\n");
    expect(writes).toEqual(["1234\n5678\n"]);
  });

  it("flush writes what is pending and returns to direct writes", async () => {
    const { writes, target } = capture();
    const sink = createLineSink(target);
    sink.defer();
    sink.write("held\n");
    sink.flush();
    expect(writes).toEqual(["held\n"]);
    sink.write("direct\n");
    expect(writes).toEqual(["held\n", "direct\n"]);
    await nextTurn();
    expect(writes).toEqual(["held\n", "direct\n"]);
  });
});
