// ABOUTME: Tests the self-registration rate limit: 5 attempts per sliding 60 s per caller, exact text.
// ABOUTME: Drives an injected clock instead of sleeping.
import { describe, expect, it } from "vitest";
import { createRegistrationLimiter } from "../../src/auth/registration-limiter.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { createManualClock } from "../store/temp-database.js";

describe("createRegistrationLimiter", () => {
  it("refuses the 6th attempt within 60 s and frees budget as attempts age out of the window", () => {
    const clock = createManualClock("2025-01-01T00:00:00.000Z");
    const limiter = createRegistrationLimiter({ clock });
    for (let i = 0; i < 5; i += 1) {
      clock.set(`2025-01-01T00:00:${String(i * 10).padStart(2, "0")}.000Z`);
      limiter.attempt("p1");
    }
    let error: unknown;
    try {
      limiter.attempt("p1");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: "RESOURCE_EXHAUSTED", message: "rate limit exceeded: max 5 registrations per 1m0s" });
    limiter.attempt("p2");
    clock.set("2025-01-01T00:01:00.001Z");
    expect(() => limiter.attempt("p1")).not.toThrow();
    expect(() => limiter.attempt("p1")).toThrow("rate limit exceeded");
  });
});
