// ABOUTME: Tests JWT minting and verification (auth.md §7): exact header and claims, TTL rules, every refusal.
// ABOUTME: Foreign tokens are built with jose or by hand; the clock is injected.
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/lib/clock.js";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { createJwtService, DEFAULT_TOKEN_TTL_SECONDS } from "../../src/auth/jwt.js";
import { testKeyPair } from "../support/key-pairs.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const START_MS = 1_700_000_000_000;

function manualClock(ms = START_MS): Clock & { ms: number } {
  return {
    ms,
    now() {
      return new Date(this.ms);
    },
  };
}

function decodePart(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(isGatewayError(err, "UNAUTHENTICATED")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected the token to be refused");
}

const secretKey = new TextEncoder().encode(SECRET);
const nowSeconds = START_MS / 1000;

describe("createJwtService", () => {
  it("requires a secret of at least 32 UTF-8 bytes", () => {
    expect(() => createJwtService({ secret: "x".repeat(31) })).toThrow("JWT secret must be at least 32 bytes");
    expect(() => createJwtService({ secret: "é".repeat(15) + "a" })).toThrow("JWT secret must be at least 32 bytes");
    expect(() => createJwtService({ secret: "é".repeat(16) })).not.toThrow();
    let thrown: unknown;
    try {
      createJwtService({ secret: "" });
    } catch (err) {
      thrown = err;
    }
    expect(isGatewayError(thrown, "INVALID_ARGUMENT")).toBe(true);
  });
});

describe("mint", () => {
  it("signs HS256 with exactly sub, iat and exp", async () => {
    const jwt = createJwtService({ secret: SECRET, clock: manualClock(START_MS + 999) });
    const { token, expiresAt } = await jwt.mint("principal-1", 3600);
    expect(decodePart(token, 0)).toEqual({ alg: "HS256", typ: "JWT" });
    expect(decodePart(token, 1)).toEqual({ sub: "principal-1", iat: nowSeconds, exp: nowSeconds + 3600 });
    expect(expiresAt.toISOString()).toBe(new Date((nowSeconds + 3600) * 1000).toISOString());
  });

  it("uses 30 days when the TTL is missing or not positive", async () => {
    const jwt = createJwtService({ secret: SECRET, clock: manualClock() });
    for (const ttl of [undefined, 0, -5]) {
      const { token } = await jwt.mint("p", ttl);
      expect(decodePart(token, 1).exp).toBe(nowSeconds + DEFAULT_TOKEN_TTL_SECONDS);
    }
    expect(DEFAULT_TOKEN_TTL_SECONDS).toBe(2_592_000);
  });

  it("caps the TTL at 365 days", async () => {
    const jwt = createJwtService({ secret: SECRET, clock: manualClock() });
    await expect(jwt.mint("p", 31_536_000)).resolves.toBeDefined();
    await expect(jwt.mint("p", 31_536_001)).rejects.toThrow("ttl_seconds exceeds maximum of 31536000");
    await expect(jwt.mint("", 60)).rejects.toThrow("principal_id required");
  });
});

describe("verify", () => {
  it("accepts its own token until exp, with no leeway", async () => {
    const clock = manualClock();
    const jwt = createJwtService({ secret: SECRET, clock });
    const { token } = await jwt.mint("principal-1", 60);
    clock.ms += 59_999;
    await expect(jwt.verify(token)).resolves.toEqual({ principalId: "principal-1", expiresAt: new Date(START_MS + 60_000) });
    clock.ms += 1;
    expect(await refusal(jwt.verify(token))).toBe("invalid token");
  });

  it("refuses a token signed with another secret", async () => {
    const { token } = await createJwtService({ secret: "another-secret-that-is-32-bytes!", clock: manualClock() }).mint("p");
    expect(await refusal(createJwtService({ secret: SECRET, clock: manualClock() }).verify(token))).toBe("invalid token");
  });

  it("accepts HS384 and HS512 but never alg none or an asymmetric algorithm", async () => {
    const jwt = createJwtService({ secret: SECRET, clock: manualClock() });
    const claims = { sub: "p", iat: nowSeconds, exp: nowSeconds + 60 };
    for (const alg of ["HS384", "HS512"]) {
      const token = await new SignJWT(claims).setProtectedHeader({ alg }).sign(secretKey);
      await expect(jwt.verify(token)).resolves.toMatchObject({ principalId: "p" });
    }
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;
    expect(await refusal(jwt.verify(unsigned))).toBe("invalid token");
    const { privateKey } = testKeyPair("rsa-2048");
    const rs256 = await new SignJWT(claims).setProtectedHeader({ alg: "RS256" }).sign(privateKey);
    expect(await refusal(jwt.verify(rs256))).toBe("invalid token");
  });

  it("requires exp and a non-empty string sub, and honours nbf", async () => {
    const jwt = createJwtService({ secret: SECRET, clock: manualClock() });
    const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(secretKey);
    expect(await refusal(jwt.verify(await sign({ sub: "p", iat: nowSeconds })))).toBe("invalid token");
    expect(await refusal(jwt.verify(await sign({ iat: nowSeconds, exp: nowSeconds + 60 })))).toBe("invalid token");
    expect(await refusal(jwt.verify(await sign({ sub: "", exp: nowSeconds + 60 })))).toBe("invalid token");
    expect(await refusal(jwt.verify(await sign({ sub: 42, exp: nowSeconds + 60 })))).toBe("invalid token");
    expect(await refusal(jwt.verify(await sign({ sub: "p", exp: nowSeconds + 60, nbf: nowSeconds + 10 })))).toBe("invalid token");
    await expect(jwt.verify(await sign({ sub: "p", exp: nowSeconds + 60, nbf: nowSeconds }))).resolves.toMatchObject({ principalId: "p" });
    await expect(jwt.verify(await sign({ sub: "p", exp: nowSeconds + 60, iat: nowSeconds + 999_999 }))).resolves.toMatchObject({
      principalId: "p",
    });
  });

  it("refuses garbage and tampered tokens", async () => {
    const jwt = createJwtService({ secret: SECRET, clock: manualClock() });
    expect(await refusal(jwt.verify(""))).toBe("invalid token");
    expect(await refusal(jwt.verify("not.a.jwt"))).toBe("invalid token");
    const { token } = await jwt.mint("alice");
    const [header, , signature] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: "admin", iat: nowSeconds, exp: nowSeconds + 60 })).toString("base64url");
    expect(await refusal(jwt.verify(`${header}.${forged}.${signature}`))).toBe("invalid token");
  });
});
