// ABOUTME: Builds the web admin edge: one fastify plugin (security headers, body parsing, assets, sign-in, pages,
// ABOUTME: chat) plus the session service and the gates other edges reuse (WebSocket upgrade, pairing routes).
import type { FastifyInstance } from "fastify";
import type { AgentManager } from "../agent/agent-manager.js";
import type { IdentityService } from "../auth/identity-service.js";
import type { PairingService } from "../auth/pairing-service.js";
import type { ApprovalService } from "../conversation/approval-service.js";
import type { ConversationService } from "../conversation/conversation-service.js";
import type { EventHub } from "../conversation/event-hub.js";
import type { QuestionRouter } from "../conversation/question-router.js";
import type { LedgerRepository } from "../store/ledger-repository.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import type { StoreExecutor } from "../store/transaction.js";
import { createAdminGuard, type AdminGuard } from "./admin-guard.js";
import { createAdminSessions, type AdminSessions } from "./admin-sessions.js";
import { authRoutes } from "./auth-routes.js";
import { chatRoutes, type SendAdmission } from "./chat-routes.js";
import { adminPageRoutes } from "./admin-pages-routes.js";
import type { BindingService } from "../conversation/binding-service.js";
import type { LinkService } from "../auth/link-service.js";
import type { ToolRegistry } from "../packs/tool-registry.js";
import { isoTimestamp } from "../lib/clock.js";
import { createAdminReadRepository } from "../store/admin-read-repository.js";
import { createLinkCodeRepository } from "../store/link-code-repository.js";
import { createUsageReportRepository } from "../store/usage-report-repository.js";
import { activityRoutes } from "./activity-routes.js";
import { dashboardRoutes } from "./dashboard-routes.js";
import { registerWebBodyParser } from "./form-body.js";
import { pairTokenRoutes } from "./pair-token-routes.js";
import { passkeyRoutes } from "./passkey-routes.js";
import { deriveRelyingParty, type RelyingParty } from "./webauthn-config.js";
import { createWebauthnCredentialRepository } from "../store/webauthn-credential-repository.js";
import { findStaticRoot, loadStaticAssets, staticRoutes } from "./static-files.js";
import type { WebAuthFailure, WebContext } from "./web-context.js";

/** `X-Content-Type-Options` and `Referrer-Policy` of web-admin.md §9 (the CSP comes from the app-wide hook). */
export const WEB_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

export interface WebAdminDeps {
  db: StoreExecutor;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  agents: AgentManager;
  identity: IdentityService;
  approvals: ApprovalService;
  questions: QuestionRouter;
  conversations: ConversationService;
  hub: EventHub;
  ledger: LedgerRepository;
  bindings: BindingService;
  links: Pick<LinkService, "approve">;
  registry: Pick<ToolRegistry, "listPacks" | "toolsFor">;
  /** The hub queue bound of one chat stream. */
  subscriberQueue: number;
  /** QR device pairing: `POST /api/admin/link/pair-token` mints through it. */
  pairing: Pick<PairingService, "mint">;
  isAuthEnabled: boolean;
  /** The public base URL (derived once the HTTP port is bound); no trailing slash. */
  baseUrl(): string;
  grpcPort(): number;
  version: string;
  maxBodyBytes: number;
  lifecycle: { isShuttingDown(): boolean };
  /** Maintenance and budget checks of the web chat send (ops.md §4.5). */
  sendAdmission?: SendAdmission | undefined;
  /** A refused sign-in (ops.md §1.3 `coven_auth_failures_total{edge="webadmin"}`). */
  authFailed?: ((reason: WebAuthFailure) => void) | undefined;
  /** `costs.currency`, shown on the usage page. */
  currency?: string | undefined;
}

export interface WebAdmin {
  /** Register on the HTTP app (root scope). */
  readonly plugin: (app: FastifyInstance) => Promise<void>;
  /** Sessions: `resolveCookieHeader` authenticates a browser on other edges. */
  readonly sessions: AdminSessions;
  /** The session and CSRF gates, for routes mounted elsewhere. */
  readonly guard: AdminGuard;
  start(): void;
  stop(): void;
}

/** Builds the web admin. Throws when the static assets cannot be read (a broken checkout). */
export function createWebAdmin(deps: WebAdminDeps): WebAdmin {
  const sessions = createAdminSessions({ db: deps.db, clock: deps.clock, log: deps.log });
  const guard = createAdminGuard(sessions);
  const assets = loadStaticAssets(findStaticRoot());
  const ctx: WebContext = {
    db: deps.db,
    clock: deps.clock,
    ids: deps.ids,
    log: deps.log,
    sessions,
    guard,
    baseUrl: deps.baseUrl,
    version: deps.version,
    pendingApprovalCount: async () => (await deps.approvals.listPending()).length,
    authFailed: deps.authFailed ?? (() => {}),
  };

  /** The dashboard's cards, all-time usage and packs (§5.1). */
  const summary = async () => {
    const packs = deps.registry.listPacks();
    const usage = await createUsageReportRepository(deps.db).byAgent({});
    const t = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, thinking: 0, total: 0, requests: 0 };
    for (const u of usage) for (const k of Object.keys(t) as Array<keyof typeof t>) t[k] += u[k];
    const now = isoTimestamp(deps.clock.now());
    return {
      cards: [
        { label: "Connected agents", value: deps.agents.list().length },
        { label: "Packs", value: packs.length },
        { label: "Tools", value: packs.reduce((n, p) => n + p.tools.length, 0) },
        { label: "Threads", value: await createAdminReadRepository(deps.db).threadCount() },
        { label: "Pending approvals", value: (await deps.approvals.listPending()).length },
        { label: "Pending link codes", value: (await createLinkCodeRepository(deps.db).listPending(now)).length },
      ],
      usage: t,
      packs: packs.map((p) => ({ id: p.id, version: p.version, toolCount: p.tools.length })),
    };
  };

  let rp: { value: RelyingParty | undefined } | undefined;
  /** Derived once, on first use: the base URL may depend on the bound HTTP port. */
  const relyingParty = () => (rp ??= { value: deriveRelyingParty(deps.baseUrl(), deps.log) }).value;

  async function plugin(app: FastifyInstance): Promise<void> {
    await app.register(async (web) => {
      web.decorateRequest("adminSession", null);
      registerWebBodyParser(web, deps.maxBodyBytes);
      web.addHook("onRequest", async (_request, reply) => {
        reply.headers(WEB_SECURITY_HEADERS);
        if (deps.lifecycle.isShuttingDown()) {
          return reply.code(503).header("content-type", "text/plain; charset=utf-8").send("gateway shutting down");
        }
        return undefined;
      });
      await web.register(staticRoutes(assets));
      await web.register(authRoutes({ ctx, identity: deps.identity, isAuthEnabled: deps.isAuthEnabled, grpcPort: deps.grpcPort }));
      await web.register(
        dashboardRoutes({
          ctx,
          agents: deps.agents,
          sources: { passkeysOf: (userId) => createWebauthnCredentialRepository(deps.db).listByUser(userId), summary },
        }),
      );
      await web.register(passkeyRoutes({ ctx, relyingParty }));
      await web.register(
        adminPageRoutes({
          ctx,
          agents: deps.agents,
          identity: deps.identity,
          bindings: deps.bindings,
          approvals: deps.approvals,
          questions: deps.questions,
          links: deps.links,
          registry: deps.registry,
          isAuthEnabled: deps.isAuthEnabled,
          currency: deps.currency,
        }),
      );
      await web.register(activityRoutes(ctx));
      await web.register(
        chatRoutes({
          ctx,
          hub: deps.hub,
          agents: deps.agents,
          conversations: deps.conversations,
          ledger: deps.ledger,
          approvals: deps.approvals,
          questions: deps.questions,
          clock: deps.clock,
          log: deps.log,
          maxQueue: deps.subscriberQueue,
          ops: deps.sendAdmission,
        }),
      );
      await web.register(pairTokenRoutes({ pairing: deps.pairing, guard }));
    });
  }

  return {
    plugin,
    sessions,
    guard,
    start: () => sessions.start(),
    stop: () => sessions.stop(),
  };
}
