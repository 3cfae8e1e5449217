// ABOUTME: The management pages (web-admin.md §5.2-5.16) and their form actions, each going through the domain
// ABOUTME: service that already owns the rule and its audit row (identity, bindings, approvals, links, secrets).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  agentDetailPage,
  agentsPage,
  threadDetailPage,
  approvalsPage,
  bindingsPage,
  linkPage,
  principalsPage,
  secretsPage,
  threadsPage,
  tokensPage,
  toolsPage,
  usagePage,
} from "../../web-admin/templates/admin-pages.js";
import type { SafeHtml } from "../../web-admin/templates/html.js";
import { notFoundPage, type PageChrome } from "../../web-admin/templates/layout.js";
import { pairDevicePanel } from "../../web-admin/templates/pair-device.js";
import type { AgentManager } from "../agent/agent-manager.js";
import type { IdentityService } from "../auth/identity-service.js";
import type { LinkService } from "../auth/link-service.js";
import type { ApprovalService } from "../conversation/approval-service.js";
import type { BindingService } from "../conversation/binding-service.js";
import type { QuestionRouter } from "../conversation/question-router.js";
import { isoTimestamp } from "../lib/clock.js";
import { hasReason, isGatewayError } from "../lib/gateway-error.js";
import type { ToolRegistry } from "../packs/tool-registry.js";
import { createAdminReadRepository } from "../store/admin-read-repository.js";
import { createAuditRepository, webAdminActor } from "../store/audit-repository.js";
import { createLinkCodeRepository } from "../store/link-code-repository.js";
import { createSecretRepository, MAX_SECRET_VALUE_BYTES } from "../store/secret-repository.js";
import { createUsageReportRepository, type UsageTotals } from "../store/usage-report-repository.js";
import { createLedgerRepository } from "../store/ledger-repository.js";
import { createThreadRepository } from "../store/thread-repository.js";
import { createUsageRepository } from "../store/usage-repository.js";
import type { AdminSession } from "./admin-sessions.js";
import { decideApproval } from "./chat-routes.js";
import { readFormFields, type FormFields } from "./form-body.js";
import { webErrorOf } from "./web-errors.js";
import { redirectWithNotice, sendLayoutPage, type WebContext } from "./web-context.js";
import { sendJson, sendJsonError, sendText } from "./web-reply.js";

export interface AdminPageDeps {
  ctx: WebContext;
  agents: Pick<AgentManager, "list" | "get" | "listDeparted">;
  identity: IdentityService;
  bindings: BindingService;
  approvals: Pick<ApprovalService, "answer" | "listPending">;
  questions: Pick<QuestionRouter, "listPending">;
  links: Pick<LinkService, "approve">;
  registry: Pick<ToolRegistry, "listPacks" | "toolsFor">;
  isAuthEnabled: boolean;
  /** `costs.currency`, shown beside the usage page's costs (ops.md §4.3). */
  currency?: string | undefined;
}

const SECRET_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEY_TEXT = "Key must be a valid environment variable name (letters, digits, underscores, starting with letter or underscore)";
const VALUE_TOO_LONG = "Value exceeds maximum length (64KB)";
const SECONDS_PER_DAY = 86_400;

/** The status of a domain failure shown on a form: the GatewayError's code, 500 for anything unexpected. */
function statusOf(err: unknown): number {
  return webErrorOf(err, "").status;
}

function parseRangeDate(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : isoTimestamp(new Date(ms));
}

function sumTotals(rows: readonly UsageTotals[]): UsageTotals {
  const t = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, thinking: 0, total: 0, requests: 0 };
  for (const r of rows) {
    t.input += r.input;
    t.output += r.output;
    t.cacheRead += r.cacheRead;
    t.cacheWrite += r.cacheWrite;
    t.thinking += r.thinking;
    t.total += r.total;
    t.requests += r.requests;
  }
  return t;
}

export function adminPageRoutes(deps: AdminPageDeps) {
  const { ctx } = deps;
  const read = createAdminReadRepository(ctx.db);
  const secrets = createSecretRepository(ctx.db);
  const session = (request: FastifyRequest) => request.adminSession as AdminSession;
  const actor = (request: FastifyRequest) => webAdminActor(session(request).user.id);
  /** The audit detail's `username` (web-admin.md §7). */
  const who = (request: FastifyRequest) => ({ username: session(request).user.username });
  const page = (request: FastifyRequest, reply: FastifyReply, active: string, build: (chrome: PageChrome) => SafeHtml, status?: number, error?: string) =>
    sendLayoutPage(ctx, request, reply, { active, status, error }, build);
  const fieldsObject = (fields: FormFields | undefined, names: readonly string[]) => Object.fromEntries(names.map((n) => [n, fields?.get(n) ?? ""]));

  const renderPrincipals = async (request: FastifyRequest, reply: FastifyReply, status?: number, error?: string, form?: Record<string, string>) => {
    const q = request.query as Record<string, unknown>;
    const type = typeof q.type === "string" ? q.type : "";
    const statusFilter = typeof q.status === "string" ? q.status : "";
    const list = (await deps.identity.listPrincipals({ type: type || undefined, status: statusFilter || undefined })).slice(0, 500);
    const seen = await read.lastSeen();
    return page(
      request,
      reply,
      "/admin/principals",
      (chrome) =>
        principalsPage(chrome, {
          type,
          status: statusFilter,
          form,
          principals: list.map((p) => ({
            id: p.id,
            displayName: p.displayName,
            type: p.type,
            status: p.status,
            fingerprint: p.pubkeyFingerprint,
            roles: p.roles,
            createdAt: p.createdAt,
            lastSeen: seen.get(p.id),
          })),
        }),
      status,
      error,
    );
  };

  const renderBindings = async (request: FastifyRequest, reply: FastifyReply, status?: number, error?: string, form?: Record<string, string>) => {
    const principals = await deps.identity.listPrincipals({});
    const names = new Map(principals.map((p) => [p.id, p.displayName]));
    const online = deps.agents.list();
    const list = await deps.bindings.list();
    return page(
      request,
      reply,
      "/admin/bindings",
      (chrome) =>
        bindingsPage(chrome, {
          form,
          agentPrincipals: principals.filter((p) => p.type === "agent" || p.id === "anonymous").map((p) => ({ id: p.id, name: p.displayName })),
          workingDirs: [...new Set(online.map((a) => a.workingDir))],
          bindings: list.map((b) => ({
            id: b.id,
            frontend: b.frontend,
            channelId: b.channelId,
            agentId: b.agentId,
            agentName: names.get(b.agentId) ?? b.agentId,
            workingDir: b.workingDir,
            isOnline: online.some((a) => a.principalId === b.agentId && (b.workingDir === "" || a.workingDir === b.workingDir)),
            createdAt: b.createdAt,
            createdBy: b.createdBy ?? "—",
          })),
        }),
      status,
      error,
    );
  };

  const renderTokens = async (request: FastifyRequest, reply: FastifyReply, extra: { status?: number; error?: string; issued?: { token: string; expiresAt: string }; form?: Record<string, string> } = {}) => {
    const principals = (await deps.identity.listPrincipals({})).filter((p) => ["approved", "online", "offline"].includes(p.status));
    const recent = await createAuditRepository(ctx.db).list({ action: "create_token", limit: 50 });
    return page(
      request,
      reply,
      "/admin/tokens",
      (chrome) =>
        tokensPage(chrome, {
          isAuthEnabled: deps.isAuthEnabled,
          principals: principals.map((p) => ({ id: p.id, name: p.displayName })),
          issued: extra.issued,
          form: extra.form,
          recent: recent.map((e) => {
            const detail = (e.detailJson ? JSON.parse(e.detailJson) : {}) as { expires_at?: string };
            return { principal: e.targetId, expiresAt: detail.expires_at ?? "—", issuer: e.actor, ts: e.ts };
          }),
        }),
      extra.status,
      extra.error ?? (deps.isAuthEnabled ? undefined : "token generation not configured (no jwt_secret)"),
    );
  };

  const renderSecrets = async (request: FastifyRequest, reply: FastifyReply, status?: number, error?: string, form?: Record<string, string>) => {
    const list = await secrets.list();
    return page(
      request,
      reply,
      "/admin/secrets",
      (chrome) =>
        secretsPage(chrome, {
          form,
          agentIds: deps.agents.list().map((a) => a.agentId),
          secrets: list.map((s) => ({ id: s.id, key: s.key, agentId: s.agentId, updatedAt: s.updatedAt })),
        }),
      status,
      error,
    );
  };

  const renderLink = async (request: FastifyRequest, reply: FastifyReply, status?: number, error?: string) => {
    const codes = createLinkCodeRepository(ctx.db);
    const now = isoTimestamp(ctx.clock.now());
    await codes.deleteExpiredPending(now);
    const pending = await codes.listPending(now);
    return page(request, reply, "/admin/link", (chrome) => linkPage(chrome, { isAuthEnabled: deps.isAuthEnabled, codes: pending, extra: pairDevicePanel() }), status, error);
  };

  const renderApprovals = async (request: FastifyRequest, reply: FastifyReply, status?: number, error?: string) => {
    const [approvals, questions, resolved] = await Promise.all([deps.approvals.listPending(), deps.questions.listPending(), read.recentlyResolvedApprovals(50)]);
    return page(
      request,
      reply,
      "/admin/approvals",
      (chrome) =>
        approvalsPage(chrome, {
          approvals,
          questions: questions.map((q) => ({ agentId: q.agentId, question: q.question, options: q.options.map((o) => o.label), expiresAt: q.expiresAt })),
          resolved,
        }),
      status,
      error,
    );
  };

  return async function registerAdminPages(app: FastifyInstance): Promise<void> {
    const get = { preHandler: ctx.guard.session("page") };
    const post = { preHandler: ctx.guard.sessionAndCsrf("page") };
    const xhr = { preHandler: ctx.guard.session("xhr") };
    const xhrC = { preHandler: ctx.guard.sessionAndCsrf("xhr") };

    // §5.2 agents
    app.get("/admin/agents", get, async (request, reply) => {
      const principals = new Map((await deps.identity.listPrincipals({})).map((p) => [p.id, p]));
      const rows = deps.agents.list().map((a) => {
        const p = principals.get(a.principalId);
        return {
          id: a.agentId,
          name: a.name,
          state: a.state === "busy" ? "busy" : "idle",
          principal: p ? { displayName: p.displayName, status: p.status } : undefined,
          backend: a.backend,
          workingDir: a.workingDir,
          instanceId: a.instanceId,
          since: isoTimestamp(a.connectedAt),
        };
      });
      // Disconnected agents still remembered (§5.2, decisions #2): state offline with their last-seen time.
      const offline = deps.agents.listDeparted().map(({ info: a, lastSeenAt }) => {
        const p = principals.get(a.principalId);
        return {
          id: a.agentId,
          name: a.name,
          state: "offline",
          principal: p ? { displayName: p.displayName, status: p.status } : undefined,
          backend: a.backend,
          workingDir: a.workingDir,
          instanceId: a.instanceId,
          since: isoTimestamp(lastSeenAt),
        };
      });
      return page(request, reply, "/admin/agents", (chrome) => agentsPage(chrome, [...rows, ...offline]));
    });
    const agentAction = (kind: "approve" | "revoke") =>
      async function agentPrincipalAction(request: FastifyRequest, reply: FastifyReply) {
        const { id } = request.params as { id: string };
        if (id === "") return sendText(reply, 400, "Agent ID required");
        const principalId = deps.agents.get(id)?.principalId ?? id;
        try {
          if (kind === "approve") await deps.identity.approvePrincipal(actor(request), principalId, who(request));
          else await deps.identity.revokePrincipal(actor(request), principalId, who(request));
        } catch (err) {
          if (isGatewayError(err, "NOT_FOUND")) return sendText(reply, 404, "Agent not found");
          ctx.log.error(`${kind} agent failed`, { cause: err });
          return sendText(reply, 500, kind === "approve" ? "Failed to approve agent" : "Failed to revoke agent");
        }
        return redirectWithNotice(reply, `/admin/agents/${encodeURIComponent(id)}`, kind === "approve" ? "agent_approved" : "agent_revoked");
      };
    app.post("/admin/agents/:id/approve", post, agentAction("approve"));
    app.post("/admin/agents/:id/revoke", post, agentAction("revoke"));

    // §5.3 agent detail: an unknown id renders as offline with name = id
    app.get("/admin/agents/:id", get, async (request, reply) => {
      const { id } = request.params as { id: string };
      const live = deps.agents.get(id);
      const departed = live === undefined ? deps.agents.listDeparted().find((d) => d.info.agentId === id) : undefined;
      const info = live ?? departed?.info;
      const principalId = info?.principalId ?? id;
      const principal = (await deps.identity.listPrincipals({})).find((p) => p.id === principalId);
      const usage = (await createUsageReportRepository(ctx.db).byAgent({})).find((u) => u.agentId === id);
      const events = await createLedgerRepository(ctx.db, ctx.clock, ctx.ids).newestInConversation(id, 20);
      const threads = await read.latestThreads(100, id);
      const tools = live ? deps.registry.toolsFor(live.capabilities) : [];
      const list = (items: readonly string[]) => (items.length === 0 ? "—" : items.join(", "));
      return page(request, reply, "/admin/agents", (chrome) =>
        agentDetailPage(chrome, {
          id,
          name: info?.name ?? id,
          state: live === undefined ? "offline" : live.state === "busy" ? "busy" : "idle",
          fields: info
            ? [
                ["Agent ID", id],
                ["Instance", info.instanceId],
                ["Backend", info.backend],
                ["Working dir", info.workingDir],
                ["Workspaces", list(info.workspaces)],
                ["Capabilities", list(info.capabilities)],
                ["Protocol features", list(info.protocolFeatures)],
                ["Connected since", isoTimestamp(info.connectedAt)],
                ["Last heartbeat", info.lastHeartbeatAt ? isoTimestamp(info.lastHeartbeatAt) : "—"],
                ...(departed ? ([["Last seen", isoTimestamp(departed.lastSeenAt)], ["Disconnect reason", departed.endReason]] as const) : []),
              ]
            : [["Agent ID", id]],
          tools: tools.map((t) => ({ name: t.name, description: t.description })),
          principal: principal ? { id: principal.id, type: principal.type, status: principal.status } : undefined,
          usage: { input: usage?.input ?? 0, output: usage?.output ?? 0, thinking: usage?.thinking ?? 0, total: usage?.total ?? 0, requests: usage?.requests ?? 0 },
          events: events.map((e) => ({ timestamp: e.timestamp, direction: e.direction, author: e.author, type: e.type, text: e.text ?? "" })),
          threads: threads.map((t) => ({ id: t.id, updatedAt: t.updatedAt })),
        }),
      );
    });

    // §5.5 thread detail
    app.get("/admin/threads/:id", get, async (request, reply) => {
      const { id } = request.params as { id: string };
      const thread = await createThreadRepository(ctx.db).findById(id);
      if (thread === undefined) return page(request, reply, "/admin/threads", (chrome) => notFoundPage(chrome, "Thread not found"), 404);
      const events = await createLedgerRepository(ctx.db, ctx.clock, ctx.ids).newestInThread(id, 500);
      const usage = await createUsageRepository(ctx.db).listByThread(id);
      const row = { id: thread.id, frontend: thread.frontendName, externalId: thread.externalId, agentId: thread.agentId, createdAt: thread.createdAt, updatedAt: thread.updatedAt, messages: 0 };
      return page(request, reply, "/admin/threads", (chrome) =>
        threadDetailPage(
          chrome,
          row,
          events.map((e) => ({ timestamp: e.timestamp, direction: e.direction, author: e.author, type: e.type, text: e.text ?? "" })),
          usage.map((u) => ({ createdAt: u.createdAt, input: u.inputTokens, output: u.outputTokens, thinking: u.thinkingTokens })),
        ),
      );
    });

    // §5.4 threads
    app.get("/admin/threads", get, async (request, reply) => {
      const threads = await read.latestThreads(100);
      return page(request, reply, "/admin/threads", (chrome) => threadsPage(chrome, threads));
    });

    // §5.6 principals
    app.get("/admin/principals", get, async (request, reply) => renderPrincipals(request, reply));
    app.post("/admin/principals", post, async (request, reply) => {
      const fields = readFormFields(request);
      const form = fieldsObject(fields, ["type", "display_name", "pubkey", "pubkey_fp"]);
      try {
        await deps.identity.createPrincipal(actor(request), {
          type: form.type ?? "",
          displayName: form.display_name ?? "",
          pubkey: form.pubkey || undefined,
          pubkeyFp: form.pubkey_fp || undefined,
          roles: fields?.all("roles") ?? [],
        }, who(request));
      } catch (err) {
        return renderPrincipals(request, reply, statusOf(err), statusOf(err) === 500 ? "Failed to create principal" : (err as Error).message, form);
      }
      return redirectWithNotice(reply, "/admin/principals", "principal_created");
    });
    const principalAction = (kind: "approve" | "revoke" | "delete") =>
      async function principalFormAction(request: FastifyRequest, reply: FastifyReply) {
        const { id } = request.params as { id: string };
        const isXhr = request.method === "DELETE";
        const fail = (status: number, text: string) => (isXhr ? sendJsonError(reply, status, text) : renderPrincipals(request, reply, status, text));
        if (id === "") return fail(400, "Principal ID required");
        try {
          if (kind === "approve") await deps.identity.approvePrincipal(actor(request), id, who(request));
          else if (kind === "revoke") await deps.identity.revokePrincipal(actor(request), id, who(request));
          else await deps.identity.deletePrincipal(actor(request), id, who(request));
        } catch (err) {
          if (isGatewayError(err, "NOT_FOUND")) return fail(404, "Principal not found");
          if (isGatewayError(err, "FAILED_PRECONDITION")) return fail(409, err.message);
          ctx.log.error(`${kind} principal failed`, { cause: err });
          return fail(500, `Failed to ${kind} principal`);
        }
        if (isXhr) return reply.code(200).send();
        return redirectWithNotice(reply, "/admin/principals", `principal_${kind === "delete" ? "deleted" : kind === "approve" ? "approved" : "revoked"}`);
      };
    app.post("/admin/principals/:id/approve", post, principalAction("approve"));
    app.post("/admin/principals/:id/revoke", post, principalAction("revoke"));
    app.post("/admin/principals/:id/delete", post, principalAction("delete"));
    app.delete("/admin/principals/:id", xhrC, principalAction("delete"));

    // §5.7 bindings
    app.get("/admin/bindings", get, async (request, reply) => renderBindings(request, reply));
    app.post("/admin/bindings", post, async (request, reply) => {
      const form = fieldsObject(readFormFields(request), ["frontend", "channel_id", "agent_id", "working_dir"]);
      try {
        await deps.bindings.create({ frontend: form.frontend ?? "", channelId: form.channel_id ?? "", agentId: form.agent_id ?? "", workingDir: (form.working_dir ?? "").trim(), actor: actor(request), who: who(request) });
      } catch (err) {
        return renderBindings(request, reply, statusOf(err), statusOf(err) === 500 ? "failed to create binding" : (err as Error).message, form);
      }
      return redirectWithNotice(reply, "/admin/bindings", "binding_created");
    });
    app.post("/admin/bindings/:id", post, async (request, reply) => {
      const { id } = request.params as { id: string };
      const agentId = readFormFields(request)?.get("agent_id") ?? "";
      try {
        await deps.bindings.update({ id, agentId, actor: actor(request), who: who(request) });
      } catch (err) {
        return renderBindings(request, reply, statusOf(err), statusOf(err) === 500 ? "failed to update binding" : (err as Error).message);
      }
      return redirectWithNotice(reply, "/admin/bindings", "binding_updated");
    });
    app.post("/admin/bindings/:id/delete", post, async (request, reply) => {
      const { id } = request.params as { id: string };
      try {
        await deps.bindings.deleteById({ id, actor: actor(request), who: who(request) });
      } catch (err) {
        return renderBindings(request, reply, statusOf(err), statusOf(err) === 500 ? "failed to delete binding" : (err as Error).message);
      }
      return redirectWithNotice(reply, "/admin/bindings", "binding_deleted");
    });

    // §5.8 tokens
    app.get("/admin/tokens", get, async (request, reply) => renderTokens(request, reply));
    app.post("/admin/tokens", post, async (request, reply) => {
      const form = fieldsObject(readFormFields(request), ["principal_id", "ttl_days"]);
      if (!deps.isAuthEnabled) return renderTokens(request, reply, { status: 400, error: "token generation not configured (no jwt_secret)", form });
      const raw = (form.ttl_days ?? "").trim();
      const days = raw === "" ? 30 : Number(raw);
      if (!Number.isInteger(days) || days < 0 || days > 365 || (days === 0 && raw !== "0")) {
        return renderTokens(request, reply, { status: 400, error: "ttl_days must be between 1 and 365", form });
      }
      try {
        const minted = await deps.identity.createToken(actor(request), { principalId: form.principal_id ?? "", ttlSeconds: (days === 0 ? 30 : days) * SECONDS_PER_DAY }, who(request));
        return renderTokens(request, reply, { issued: { token: minted.token, expiresAt: minted.expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z") } });
      } catch (err) {
        const status = statusOf(err) === 409 ? 400 : statusOf(err);
        return renderTokens(request, reply, { status, error: status === 500 ? "failed to generate token" : (err as Error).message, form });
      }
    });

    // §5.9 secrets
    app.get("/admin/secrets", get, async (request, reply) => renderSecrets(request, reply));
    app.post("/admin/secrets", post, async (request, reply) => {
      const form = fieldsObject(readFormFields(request), ["key", "value", "agent_id"]);
      const key = (form.key ?? "").trim();
      const value = form.value ?? "";
      const agentId = (form.agent_id ?? "").trim();
      const shown = { key, agent_id: agentId };
      if (key === "" || value === "") return renderSecrets(request, reply, 400, "Key and value are required", shown);
      if (!SECRET_KEY_RE.test(key) || key.length > 256) return renderSecrets(request, reply, 400, KEY_TEXT, shown);
      if (Buffer.byteLength(value, "utf8") > MAX_SECRET_VALUE_BYTES) return renderSecrets(request, reply, 400, VALUE_TOO_LONG, shown);
      const user = session(request).user;
      const created = await ctx.db.transaction().execute(async (trx) => {
        const now = isoTimestamp(ctx.clock.now());
        const secret = await createSecretRepository(trx).insert({ key, value, agentId, createdBy: webAdminActor(user.id), now });
        if (secret !== undefined) {
          await createAuditRepository(trx).record({
            actor: webAdminActor(user.id),
            action: "create_secret",
            targetType: "secret",
            targetId: secret.id,
            detail: { username: user.username, key, agent_id: agentId || null },
            now,
          });
        }
        return secret;
      });
      if (created === undefined) return renderSecrets(request, reply, 400, `secret with key ${JSON.stringify(key)} already exists for this scope`, shown);
      return redirectWithNotice(reply, "/admin/secrets", "secret_created");
    });
    const updateSecret = async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as { id: string };
      const value = readFormFields(request)?.get("value") ?? "";
      if (value === "") return renderSecrets(request, reply, 400, "Value is required");
      if (Buffer.byteLength(value, "utf8") > MAX_SECRET_VALUE_BYTES) return renderSecrets(request, reply, 400, VALUE_TOO_LONG);
      const user = session(request).user;
      try {
        const updated = await ctx.db.transaction().execute(async (trx) => {
          const now = isoTimestamp(ctx.clock.now());
          const secret = await createSecretRepository(trx).updateValue(id, value, now);
          if (secret !== undefined) {
            await createAuditRepository(trx).record({
              actor: webAdminActor(user.id),
              action: "update_secret",
              targetType: "secret",
              targetId: id,
              detail: { username: user.username, key: secret.key, agent_id: secret.agentId ?? null },
              now,
            });
          }
          return secret;
        });
        if (updated === undefined) return renderSecrets(request, reply, 404, "Secret not found");
      } catch (err) {
        ctx.log.error("updating a secret failed", { cause: err });
        return renderSecrets(request, reply, 500, "Failed to update secret");
      }
      return redirectWithNotice(reply, "/admin/secrets", "secret_updated");
    };
    app.post("/admin/secrets/:id", post, updateSecret);
    app.put("/admin/secrets/:id", xhrC, updateSecret);
    const deleteSecret = async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as { id: string };
      const isXhr = request.method === "DELETE";
      const user = session(request).user;
      const deleted = await ctx.db.transaction().execute(async (trx) => {
        const repo = createSecretRepository(trx);
        const existing = await repo.findById(id);
        if (existing === undefined || !(await repo.delete(id))) return undefined;
        const now = isoTimestamp(ctx.clock.now());
        await createAuditRepository(trx).record({
          actor: webAdminActor(user.id),
          action: "delete_secret",
          targetType: "secret",
          targetId: id,
          detail: { username: user.username, key: existing.key, agent_id: existing.agentId ?? null },
          now,
        });
        return existing;
      });
      if (deleted === undefined) return isXhr ? sendText(reply, 404, "Secret not found") : renderSecrets(request, reply, 404, "Secret not found");
      if (isXhr) return reply.code(200).send();
      return redirectWithNotice(reply, "/admin/secrets", "secret_deleted");
    };
    app.post("/admin/secrets/:id/delete", post, deleteSecret);
    app.delete("/admin/secrets/:id", xhrC, deleteSecret);
    app.get("/admin/secrets/:id/value", xhr, async (request, reply) => {
      const { id } = request.params as { id: string };
      try {
        const secret = await secrets.findById(id);
        if (secret === undefined) return sendJsonError(reply, 404, "Secret not found");
        return sendJson(reply, 200, { value: secret.value });
      } catch (err) {
        ctx.log.error("reading a secret failed", { cause: err });
        return sendJsonError(reply, 500, "Failed to load secret");
      }
    });

    // §5.10 usage, with the tokens-per-day chart
    app.get("/admin/usage", get, async (request, reply) => {
      const q = request.query as Record<string, unknown>;
      const range = { since: parseRangeDate(q.since), until: parseRangeDate(q.until) };
      const report = createUsageReportRepository(ctx.db);
      const [byAgent, daily] = await Promise.all([report.byAgent(range), report.dailyByAgent(range)]);
      const shownDate = (v: string | undefined) => (v ? v.slice(0, 10) : "");
      return page(request, reply, "/admin/usage", (chrome) =>
        usagePage(chrome, {
          since: shownDate(range.since),
          until: shownDate(range.until),
          totals: { ...sumTotals(byAgent), costMicros: byAgent.reduce((n, a) => n + a.costMicros, 0) },
          byAgent,
          daily,
          currency: deps.currency ?? "USD",
        }),
      );
    });

    // §5.15 tools
    app.get("/admin/tools", get, async (request, reply) => {
      const packs = deps.registry.listPacks().map((p) => ({
        id: p.id,
        version: p.version,
        tools: p.tools.map((t) => ({
          name: t.name,
          description: t.description,
          capabilities: t.requiredCapabilities,
          timeout: p.isBuiltin ? (t.name === "ask_user" ? "300" : "—") : t.timeoutSeconds === 0 ? "default (30)" : String(t.timeoutSeconds),
          schema: t.inputSchemaJson,
        })),
      }));
      return page(request, reply, "/admin/tools", (chrome) => toolsPage(chrome, packs));
    });

    // §5.14 device links
    app.get("/admin/link", get, async (request, reply) => renderLink(request, reply));
    app.post("/admin/link/:id/approve", post, async (request, reply) => {
      const { id } = request.params as { id: string };
      const isXhr = String(request.headers.accept ?? "").includes("application/json");
      const fail = (status: number, text: string) => (isXhr ? sendJsonError(reply, status, text) : renderLink(request, reply, status, text));
      if (!deps.isAuthEnabled) return fail(500, "Server not configured for link approval");
      let deviceName: string;
      try {
        deviceName = (await deps.links.approve(actor(request), id, who(request))).link.deviceName;
      } catch (err) {
        if (isGatewayError(err, "NOT_FOUND")) return fail(404, "Code not found");
        if (isGatewayError(err, "FAILED_PRECONDITION")) return fail(hasReason(err, "link_already_processed") ? 400 : 500, err.message);
        ctx.log.error("approving a device link failed", { cause: err });
        return fail(500, "Failed to approve");
      }
      if (isXhr) return sendJson(reply, 200, { status: "approved" });
      return redirectWithNotice(reply, "/admin/link", "link_approved", { name: deviceName });
    });

    // §5.16 approvals
    app.get("/admin/approvals", get, async (request, reply) => renderApprovals(request, reply));
    app.post("/admin/approvals/decide", post, async (request, reply) => {
      const fields = readFormFields(request);
      const decision = fields?.get("decision") ?? "";
      if (decision !== "approve" && decision !== "deny" && decision !== "approve_all") return renderApprovals(request, reply, 400, "Invalid decision");
      const outcome = await decideApproval({ approvals: deps.approvals, log: ctx.log }, session(request), fields?.get("agent_id") ?? "", fields?.get("tool_id") ?? "", decision);
      if (!outcome.ok) return renderApprovals(request, reply, outcome.status, outcome.message);
      return redirectWithNotice(reply, "/admin/approvals", decision === "deny" ? "tool_denied" : "tool_approved");
    });
  };
}
