// ABOUTME: Sign-in routes of the web admin (web-admin.md §3.2-3.6): login, logout, first-admin setup and invite
// ABOUTME: signup, with the reference's exact texts; form errors re-render with status 200 as the reference did.
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { invitePage, loginPage, setupCompletePage, setupPage } from "../../web-admin/templates/auth-pages.js";
import type { IdentityService } from "../auth/identity-service.js";
import { isoTimestamp } from "../lib/clock.js";
import { webAdminActor } from "../store/audit-repository.js";
import { createAdminUserRepository, type AdminUser } from "../store/admin-user-repository.js";
import { createInviteRepository, type AdminInvite } from "../store/invite-repository.js";
import { isUniqueViolation } from "../store/sqlite-errors.js";
import { hasValidCsrf } from "./admin-guard.js";
import { clearedCookies, sessionCookie } from "./cookies.js";
import { readFormFields } from "./form-body.js";
import { burnPasswordCheck, hashPassword, passwordProblem, usernameProblem, verifyPassword } from "./passwords.js";
import { appendSetCookie, isSecureRequest, sendPage, type WebContext } from "./web-context.js";

export const AUTH_TEXT = Object.freeze({
  invalidForm: "Invalid form data",
  csrf: "Invalid request, please try again",
  loginRequired: "Username and password required",
  badLogin: "Invalid username or password",
  passkeyOnly: "Password login not enabled for this account",
  generic: "An error occurred",
  allRequired: "All fields are required",
  inviteUnknown: "Invalid invite link",
  inviteUsed: "This invite has already been used",
  inviteExpired: "This invite has expired",
  usernameTaken: "Username already taken",
  authDisabledNotice: "API token not created: auth is disabled (no jwt_secret configured)",
});

/** Setup's API token lifetime: 30 days. */
const SETUP_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;

export interface AuthRouteDeps {
  ctx: WebContext;
  identity: Pick<IdentityService, "createPrincipal" | "createToken">;
  isAuthEnabled: boolean;
  /** The bound gRPC port, shown on the setup-complete page. */
  grpcPort(): number;
}

class InviteAlreadyUsed extends Error {}

/** Registers `/login`, `/logout` (+ `/admin/logout`), `/setup` and `/invite/{token}`. */
export function authRoutes(deps: AuthRouteDeps) {
  const { ctx } = deps;
  const users = createAdminUserRepository(ctx.db);
  const invites = createInviteRepository(ctx.db);

  const startSession = async (request: FastifyRequest, reply: FastifyReply, user: AdminUser) => {
    const { id, expiresAt } = await ctx.sessions.create(user.id);
    appendSetCookie(reply, sessionCookie(id, expiresAt, isSecureRequest(ctx, request)));
  };

  const inviteProblem = (invite: AdminInvite | undefined, now: string): string | undefined => {
    if (invite === undefined) return AUTH_TEXT.inviteUnknown;
    if (invite.usedAt !== undefined) return AUTH_TEXT.inviteUsed;
    if (invite.expiresAt <= now) return AUTH_TEXT.inviteExpired;
    return undefined;
  };

  return async function registerAuthRoutes(app: FastifyInstance): Promise<void> {
    app.get("/login", async (request, reply) => {
      if ((await users.count()) === 0) return reply.code(303).header("location", "/setup").send();
      if ((await ctx.guard.current(request)) !== undefined) return reply.code(303).header("location", "/").send();
      return sendPage(ctx, request, reply, 200, (csrfToken) => loginPage({ csrfToken }));
    });

    app.post("/login", async (request, reply) => {
      const fields = readFormFields(request);
      const fail = (error: string, username?: string) =>
        sendPage(ctx, request, reply, 200, (csrfToken) => loginPage({ csrfToken, error, username }));
      if (fields === undefined) return fail(AUTH_TEXT.invalidForm);
      if (!hasValidCsrf(request, fields)) return fail(AUTH_TEXT.csrf);
      const username = fields.get("username");
      const password = fields.get("password");
      if (username === "" || password === "") return fail(AUTH_TEXT.loginRequired, username);
      let user: AdminUser | undefined;
      try {
        user = await users.findByUsername(username);
        if (user === undefined) {
          await burnPasswordCheck(password);
          ctx.authFailed("invalid");
          return fail(AUTH_TEXT.badLogin, username);
        }
        if (user.passwordHash === undefined) return fail(AUTH_TEXT.passkeyOnly, username);
        if (!(await verifyPassword(password, user.passwordHash))) {
          ctx.authFailed("invalid");
          return fail(AUTH_TEXT.badLogin, username);
        }
        await startSession(request, reply, user);
      } catch (cause) {
        ctx.log.error("web admin login failed", { cause });
        return fail(AUTH_TEXT.generic, username);
      }
      return reply.code(303).header("location", "/").send();
    });

    const logout = async (request: FastifyRequest, reply: FastifyReply) => {
      if (!hasValidCsrf(request)) ctx.log.warn("web admin logout without a valid CSRF token", { ip: request.ip });
      const session = request.adminSession;
      if (session) await ctx.sessions.delete(session.id);
      reply.header("set-cookie", clearedCookies(isSecureRequest(ctx, request)));
      return reply.code(303).header("location", "/login").send();
    };
    app.post("/logout", { preHandler: ctx.guard.session("page") }, logout);
    app.post("/admin/logout", { preHandler: ctx.guard.session("page") }, logout);

    app.get("/setup", async (request, reply) => {
      if ((await users.count()) > 0) return reply.code(303).header("location", "/login").send();
      return sendPage(ctx, request, reply, 200, (csrfToken) =>
        setupPage({ csrfToken, createPrincipal: true, isAuthEnabled: deps.isAuthEnabled }),
      );
    });

    app.post("/setup", async (request, reply) => {
      if ((await users.count()) > 0) return reply.code(303).header("location", "/login").send();
      const fields = readFormFields(request);
      const username = fields?.get("username").trim() ?? "";
      const displayName = fields?.get("display_name").trim() ?? "";
      const password = fields?.get("password") ?? "";
      const createPrincipal = fields?.get("create_principal") === "on";
      const fail = (error: string) =>
        sendPage(ctx, request, reply, 200, (csrfToken) =>
          setupPage({ csrfToken, error, username, displayName, createPrincipal, isAuthEnabled: deps.isAuthEnabled }),
        );
      if (fields === undefined) return fail(AUTH_TEXT.invalidForm);
      if (!hasValidCsrf(request, fields)) return fail(AUTH_TEXT.csrf);
      if (username === "" || displayName === "" || password === "") return fail(AUTH_TEXT.allRequired);
      const problem = usernameProblem(username) ?? passwordProblem(password);
      if (problem !== undefined) return fail(problem);
      let passwordHash: string;
      try {
        passwordHash = await hashPassword(password);
      } catch (cause) {
        ctx.log.error("hashing the setup password failed", { cause });
        return fail("Failed to process password");
      }
      let user: AdminUser | undefined;
      try {
        user = await users.createFirst({
          id: ctx.ids.uuid(),
          username,
          passwordHash,
          displayName,
          now: isoTimestamp(ctx.clock.now()),
        });
      } catch (cause) {
        ctx.log.error("creating the first admin failed", { cause });
        return fail(`Failed to create user: ${cause instanceof Error ? cause.message : String(cause)}`);
      }
      if (user === undefined) return reply.code(303).header("location", "/login").send();
      await startSession(request, reply, user);

      let token: string | undefined;
      let notice: string | undefined;
      if (createPrincipal && !deps.isAuthEnabled) {
        notice = AUTH_TEXT.authDisabledNotice;
      } else if (createPrincipal) {
        const actor = webAdminActor(user.id);
        try {
          const principal = await deps.identity.createPrincipal(actor, {
            type: "client",
            displayName: `${displayName} (API)`,
            roles: ["owner"],
          }, { username: user.username });
          token = (await deps.identity.createToken(actor, { principalId: principal.id, ttlSeconds: SETUP_TOKEN_TTL_SECONDS }, { username: user.username })).token;
        } catch (cause) {
          ctx.log.error("creating the setup API principal failed", { cause });
          notice = "API token not created: an error occurred";
        }
      }
      const host = hostWithoutPort(request.headers.host ?? "localhost");
      return sendPage(ctx, request, reply, 200, (csrfToken) =>
        setupCompletePage({ csrfToken, displayName, token, notice, grpcAddress: `${host}:${deps.grpcPort()}` }),
      );
    });

    app.get("/invite/:token", async (request, reply) => {
      const { token } = request.params as { token: string };
      let error: string | undefined;
      try {
        error = inviteProblem(await invites.find(token), isoTimestamp(ctx.clock.now()));
      } catch (cause) {
        ctx.log.error("invite lookup failed", { cause });
        error = AUTH_TEXT.generic;
      }
      return sendPage(ctx, request, reply, 200, (csrfToken) => invitePage({ csrfToken, token, error, showForm: error === undefined }));
    });

    app.post("/invite/:token", async (request, reply) => {
      const { token } = request.params as { token: string };
      const fields = readFormFields(request);
      const username = fields?.get("username").trim() ?? "";
      const password = fields?.get("password") ?? "";
      const displayName = fields?.get("display_name").trim() ?? "";
      const fail = (error: string, showForm = true) =>
        sendPage(ctx, request, reply, 200, (csrfToken) => invitePage({ csrfToken, token, error, showForm, username, displayName }));
      if (fields === undefined) return fail(AUTH_TEXT.invalidForm);
      if (!hasValidCsrf(request, fields)) return fail(AUTH_TEXT.csrf);
      if (username === "" || password === "") return fail(AUTH_TEXT.loginRequired);
      const problem = usernameProblem(username) ?? passwordProblem(password);
      if (problem !== undefined) return fail(problem);
      try {
        const now = isoTimestamp(ctx.clock.now());
        const inviteError = inviteProblem(await invites.find(token), now);
        if (inviteError !== undefined) return fail(inviteError, false);
        if ((await users.findByUsername(username)) !== undefined) return fail(AUTH_TEXT.usernameTaken);
        const passwordHash = await hashPassword(password);
        const user = await ctx.db.transaction().execute(async (trx) => {
          const created = await createAdminUserRepository(trx).create({
            id: randomBytes(16).toString("hex"),
            username,
            passwordHash,
            displayName: displayName === "" ? username : displayName,
            now,
          });
          if (!(await createInviteRepository(trx).markUsed(token, created.id, now))) throw new InviteAlreadyUsed();
          return created;
        });
        await startSession(request, reply, user);
      } catch (cause) {
        if (cause instanceof InviteAlreadyUsed) return fail(AUTH_TEXT.inviteUsed, false);
        if (isUniqueViolation(cause)) return fail(AUTH_TEXT.usernameTaken);
        ctx.log.error("invite signup failed", { cause });
        return fail(AUTH_TEXT.generic);
      }
      return reply.code(303).header("location", "/").send();
    });
  };
}

/** `Host` without its port (`[::1]:8080` → `[::1]`). */
function hostWithoutPort(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}
