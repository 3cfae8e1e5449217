// ABOUTME: The shared warn cap of ops.md §6: one warn line per key per minute on an injected clock, the rest at debug,
// ABOUTME: and distinct keys (kind plus subject) each get their own line.
import { describe, expect, it } from "vitest";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { createWarnLimiter } from "../../src/lib/warn-limiter.js";

describe("warn limiter", () => {
  it("logs a key's warn at most once per minute and demotes the rest to debug", () => {
    let now = 1_000_000;
    const log = createMemoryLogger();
    const warns = createWarnLimiter(() => now);
    warns.warn(log, "rate_limited\u0000ws_requests\u0000c1", "rate limit exceeded", { key: "c1" });
    warns.warn(log, "rate_limited\u0000ws_requests\u0000c1", "rate limit exceeded", { key: "c1" });
    warns.warn(log, "rate_limited\u0000ws_requests\u0000c2", "rate limit exceeded", { key: "c2" });
    now += 59_999;
    warns.warn(log, "rate_limited\u0000ws_requests\u0000c1", "rate limit exceeded", { key: "c1" });
    now += 1;
    warns.warn(log, "rate_limited\u0000ws_requests\u0000c1", "rate limit exceeded", { key: "c1" });
    expect(log.entries.map((e) => `${e.level}:${String(e.attrs.key)}`)).toEqual(["warn:c1", "debug:c1", "warn:c2", "debug:c1", "warn:c1"]);
  });
});
