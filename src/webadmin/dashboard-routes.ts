// ABOUTME: The dashboard (web-admin.md §5.1), invite creation (§3.6), the chat page shell and its agent list
// ABOUTME: JSON (§6.1), and the legacy `/admin/chat/{id}` redirect.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { chatPage } from "../../web-admin/templates/chat-page.js";
import { dashboardPage, type DashboardData } from "../../web-admin/templates/dashboard-page.js";
import type { AgentManager } from "../agent/agent-manager.js";
import { isoTimestamp } from "../lib/clock.js";
import { createAuditRepository, webAdminActor } from "../store/audit-repository.js";
import { createInviteRepository } from "../store/invite-repository.js";
import type { AdminSession } from "./admin-sessions.js";
import { hasValidCsrf, sendCsrfFailure } from "./admin-guard.js";
import { sendLayoutPage, type WebContext } from "./web-context.js";
import { sendJson, sendJsonError } from "./web-reply.js";

/** Invite lifetime: 24 hours. */
export const INVITE_TTL_MS = 24 * 60 * 60 * 1000;
export const INVITE_FAILED = "Failed to create invite";

/** What the dashboard shows beyond the connected agents; each source is optional so the page degrades. */
export interface DashboardSources {
  /** Cards, usage totals and packs (the rest of §5.1). */
  summary?(): Promise<Omit<DashboardData, "agents" | "inviteUrl" | "passkeys">>;
  passkeysOf?(userId: string): Promise<Array<{ createdAt: string }>>;
}

export interface DashboardRouteDeps {
  ctx: WebContext;
  agents: Pick<AgentManager, "list">;
  sources?: DashboardSources;
}

/** The connected agents for the chat sidebar, sorted by name: `[{"id","name","state"}]`. */
export function chatAgents(agents: Pick<AgentManager, "list">): Array<{ id: string; name: string; state: string }> {
  return agents
    .list()
    .map((a) => ({ id: a.agentId, name: a.name, state: a.state === "busy" ? "busy" : "idle" }))
    .sort((x, y) => x.name.localeCompare(y.name) || x.id.localeCompare(y.id));
}

export function dashboardRoutes(deps: DashboardRouteDeps) {
  const { ctx } = deps;

  const createInvite = async (session: AdminSession): Promise<string> => {
    const now = ctx.clock.now();
    const invite = await ctx.db.transaction().execute(async (trx) => {
      const created = await createInviteRepository(trx).create({
        createdBy: session.user.id,
        now: isoTimestamp(now),
        expiresAt: isoTimestamp(new Date(now.getTime() + INVITE_TTL_MS)),
      });
      await createAuditRepository(trx).record({
        actor: webAdminActor(session.user.id),
        action: "create_invite",
        targetType: "invite",
        targetId: created.id.slice(0, 8),
        detail: { username: session.user.username, expires_at: created.expiresAt },
        now: isoTimestamp(now),
      });
      return created;
    });
    return `${ctx.baseUrl()}/invite/${invite.id}`;
  };

  const renderDashboard = async (request: FastifyRequest, reply: FastifyReply, extra: { status?: number; error?: string; inviteUrl?: string }) => {
    const session = request.adminSession as AdminSession;
    const summary = deps.sources?.summary
      ? await deps.sources.summary()
      : { cards: [], usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, thinking: 0, total: 0, requests: 0 }, packs: [] };
    const passkeys = deps.sources?.passkeysOf ? await deps.sources.passkeysOf(session.user.id) : [];
    return sendLayoutPage(ctx, request, reply, { status: extra.status, active: "/admin/", error: extra.error }, (chrome) =>
      dashboardPage(chrome, { ...summary, agents: chatAgents(deps.agents), inviteUrl: extra.inviteUrl, passkeys }),
    );
  };

  return async function registerDashboardRoutes(app: FastifyInstance): Promise<void> {
    const page = { preHandler: ctx.guard.session("page") };
    const xhr = { preHandler: ctx.guard.session("xhr") };

    app.get("/", page, async (request, reply) => {
      const session = request.adminSession as AdminSession;
      const query = request.query as Record<string, unknown>;
      const selected = typeof query.agent === "string" && query.agent !== "" ? query.agent : undefined;
      return sendLayoutPage(ctx, request, reply, { active: "/" }, (chrome) =>
        chatPage(chrome, { agents: chatAgents(deps.agents), selected, username: session.user.username }),
      );
    });
    app.get("/admin/chat/:id", page, async (request, reply) => {
      const { id } = request.params as { id: string };
      return reply.code(302).header("location", `/?agent=${encodeURIComponent(id)}`).send();
    });
    app.get("/api/admin/agents", xhr, async (_request, reply) =>
      sendJson(reply, 200, chatAgents(deps.agents)),
    );

    app.get("/admin", page, async (_request, reply) => reply.code(303).header("location", "/admin/").send());
    app.get("/admin/", page, async (request, reply) => renderDashboard(request, reply, {}));
    app.get("/admin/dashboard", page, async (request, reply) => renderDashboard(request, reply, {}));

    app.post("/admin/invites", page, async (request, reply) => {
      if (!hasValidCsrf(request)) return sendCsrfFailure(reply);
      try {
        const inviteUrl = await createInvite(request.adminSession as AdminSession);
        return renderDashboard(request, reply, { inviteUrl });
      } catch (cause) {
        ctx.log.error("creating an invite failed", { cause });
        return renderDashboard(request, reply, { status: 500, error: INVITE_FAILED });
      }
    });
    app.post("/api/admin/invites", xhr, async (request, reply) => {
      if (!hasValidCsrf(request)) return sendCsrfFailure(reply);
      try {
        const url = await createInvite(request.adminSession as AdminSession);
        return sendJson(reply, 200, { url });
      } catch (cause) {
        ctx.log.error("creating an invite failed", { cause });
        return sendJsonError(reply, 500, INVITE_FAILED);
      }
    });
  };
}
