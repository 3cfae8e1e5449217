// ABOUTME: Passkey ceremonies of the web admin (web-admin.md §3.7) through @simplewebauthn/server: registration
// ABOUTME: while signed in, discoverable login; challenges live in memory for 5 minutes and are single use.
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticatorTransport,
} from "@simplewebauthn/server";
import { isoTimestamp } from "../lib/clock.js";
import { createAdminUserRepository } from "../store/admin-user-repository.js";
import { createWebauthnCredentialRepository } from "../store/webauthn-credential-repository.js";
import type { AdminSession } from "./admin-sessions.js";
import { sessionCookie } from "./cookies.js";
import { WebBody } from "./form-body.js";
import type { RelyingParty } from "./webauthn-config.js";
import { appendSetCookie, isSecureRequest, type WebContext } from "./web-context.js";
import { sendJson, sendText } from "./web-reply.js";

export const PASSKEY_TEXT = Object.freeze({
  notConfigured: "WebAuthn not configured",
  badSession: "Invalid or expired session",
  badRequest: "Invalid request",
  verifyFailed: "Failed to verify credential",
  duplicate: "Credential already registered",
  unknownCredential: "Unknown credential",
  authFailed: "Authentication failed",
});

/** How long a ceremony's challenge stays usable. */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;

interface Challenge {
  challenge: string;
  kind: "register" | "login";
  userId: string | undefined;
  expiresAtMs: number;
}

export interface PasskeyRouteDeps {
  ctx: WebContext;
  /** The relying party (derived once, lazily: the base URL needs the bound port); undefined = not configured. */
  relyingParty(): RelyingParty | undefined;
}

function jsonBody(request: FastifyRequest): Record<string, unknown> | undefined {
  const body = request.body;
  if (!(body instanceof WebBody) || body.bytes === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(body.bytes.toString("utf8"));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Registers the four ceremony endpoints (and the `/admin/webauthn/register/*` aliases). */
export function passkeyRoutes(deps: PasskeyRouteDeps) {
  const { ctx } = deps;
  const challenges = new Map<string, Challenge>();
  const credentials = createWebauthnCredentialRepository(ctx.db);
  const users = createAdminUserRepository(ctx.db);

  const store = (entry: Omit<Challenge, "expiresAtMs">): string => {
    const nowMs = ctx.clock.now().getTime();
    for (const [token, c] of challenges) if (c.expiresAtMs <= nowMs) challenges.delete(token);
    const token = randomBytes(32).toString("hex");
    challenges.set(token, { ...entry, expiresAtMs: nowMs + CHALLENGE_TTL_MS });
    return token;
  };
  /** Takes (deletes) the challenge; undefined when unknown, expired, of another kind or another user. */
  const take = (token: unknown, kind: Challenge["kind"], userId?: string): Challenge | undefined => {
    if (typeof token !== "string") return undefined;
    const entry = challenges.get(token);
    if (entry === undefined) return undefined;
    challenges.delete(token);
    if (entry.expiresAtMs <= ctx.clock.now().getTime() || entry.kind !== kind || entry.userId !== userId) return undefined;
    return entry;
  };

  const withRp = (handler: (rp: RelyingParty, request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) =>
    async function passkeyHandler(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
      const rp = deps.relyingParty();
      if (rp === undefined) return sendText(reply, 503, PASSKEY_TEXT.notConfigured);
      return handler(rp, request, reply);
    };

  const registerBegin = withRp(async (rp, request, reply) => {
    const { user } = request.adminSession as AdminSession;
    const existing = await credentials.listByUser(user.id);
    const options = await generateRegistrationOptions({
      rpName: rp.rpName,
      rpID: rp.rpID,
      userName: user.username,
      userDisplayName: user.displayName || user.username,
      userID: new Uint8Array(Buffer.from(user.id, "utf8")),
      attestationType: "none",
      excludeCredentials: existing.map((c) => ({
        id: c.credentialId.toString("base64url"),
        transports: c.transports as AuthenticatorTransport[],
      })),
      authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
    });
    const sessionToken = store({ challenge: options.challenge, kind: "register", userId: user.id });
    return sendJson(reply, 200, { options, sessionToken });
  });

  const registerFinish = withRp(async (rp, request, reply) => {
    const { user } = request.adminSession as AdminSession;
    const body = jsonBody(request);
    if (body === undefined || typeof body.response !== "object" || body.response === null) return sendText(reply, 400, PASSKEY_TEXT.badRequest);
    const challenge = take(body.sessionToken, "register", user.id);
    if (challenge === undefined) return sendText(reply, 400, PASSKEY_TEXT.badSession);
    let verification;
    try {
      verification = await verifyRegistrationResponse({
        response: body.response as Parameters<typeof verifyRegistrationResponse>[0]["response"],
        expectedChallenge: challenge.challenge,
        expectedOrigin: rp.origins,
        expectedRPID: rp.rpID,
        requireUserVerification: false,
      });
    } catch (cause) {
      ctx.log.warn("passkey registration did not verify", { cause });
      return sendText(reply, 400, PASSKEY_TEXT.verifyFailed);
    }
    if (!verification.verified) return sendText(reply, 400, PASSKEY_TEXT.verifyFailed);
    const info = verification.registrationInfo;
    const transports = info.credential.transports ?? (body.response as { response?: { transports?: string[] } }).response?.transports ?? [];
    const saved = await credentials.insert({
      id: randomBytes(16).toString("hex"),
      userId: user.id,
      credentialId: Buffer.from(info.credential.id, "base64url"),
      publicKey: Buffer.from(info.credential.publicKey),
      attestationType: info.fmt,
      transports: [...transports],
      signCount: info.credential.counter,
      now: isoTimestamp(ctx.clock.now()),
    });
    if (saved === undefined) return sendText(reply, 409, PASSKEY_TEXT.duplicate);
    return sendJson(reply, 200, { status: "ok" });
  });

  const loginBegin = withRp(async (rp, _request, reply) => {
    const options = await generateAuthenticationOptions({ rpID: rp.rpID, userVerification: "preferred" });
    const sessionToken = store({ challenge: options.challenge, kind: "login", userId: undefined });
    return sendJson(reply, 200, { options, sessionToken });
  });

  const loginFinish = withRp(async (rp, request, reply) => {
    const body = jsonBody(request);
    const challenge = take(body?.sessionToken, "login");
    if (challenge === undefined) {
      ctx.authFailed("invalid");
      return sendText(reply, 400, PASSKEY_TEXT.badSession);
    }
    const response = body?.response as { id?: unknown; response?: { userHandle?: unknown } } | undefined;
    if (response === undefined || typeof response !== "object" || typeof response.id !== "string") return sendText(reply, 400, PASSKEY_TEXT.badRequest);
    const stored = await credentials.findByCredentialId(Buffer.from(response.id, "base64url"));
    if (stored === undefined) {
      ctx.authFailed("unknown_key");
      return sendText(reply, 401, PASSKEY_TEXT.unknownCredential);
    }
    const handle = response.response?.userHandle;
    if (typeof handle === "string" && handle !== "" && Buffer.from(handle, "base64url").toString("utf8") !== stored.userId) {
      ctx.authFailed("bad_signature");
      return sendText(reply, 401, PASSKEY_TEXT.authFailed);
    }
    let verification;
    try {
      verification = await verifyAuthenticationResponse({
        response: body?.response as Parameters<typeof verifyAuthenticationResponse>[0]["response"],
        expectedChallenge: challenge.challenge,
        expectedOrigin: rp.origins,
        expectedRPID: rp.rpID,
        credential: {
          id: stored.credentialId.toString("base64url"),
          publicKey: new Uint8Array(stored.publicKey),
          counter: stored.signCount,
          transports: stored.transports as AuthenticatorTransport[],
        },
        requireUserVerification: false,
      });
    } catch (cause) {
      ctx.log.warn("passkey login did not verify", { cause });
      ctx.authFailed("bad_signature");
      return sendText(reply, 401, PASSKEY_TEXT.authFailed);
    }
    if (!verification.verified) {
      ctx.authFailed("bad_signature");
      return sendText(reply, 401, PASSKEY_TEXT.authFailed);
    }
    await credentials.updateSignCount(stored.id, verification.authenticationInfo.newCounter);
    const user = await users.findById(stored.userId);
    if (user === undefined) return sendText(reply, 401, PASSKEY_TEXT.authFailed);
    const { id, expiresAt } = await ctx.sessions.create(user.id);
    appendSetCookie(reply, sessionCookie(id, expiresAt, isSecureRequest(ctx, request)));
    return sendJson(reply, 200, { redirect: "/", status: "ok" });
  });

  return async function registerPasskeyRoutes(app: FastifyInstance): Promise<void> {
    const xhrC = { preHandler: ctx.guard.sessionAndCsrf("xhr") };
    for (const prefix of ["/webauthn", "/admin/webauthn"]) {
      app.post(`${prefix}/register/begin`, xhrC, registerBegin);
      app.post(`${prefix}/register/finish`, xhrC, registerFinish);
    }
    app.post("/webauthn/login/begin", loginBegin);
    app.post("/webauthn/login/finish", loginFinish);
  };
}
