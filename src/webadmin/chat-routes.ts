// ABOUTME: The chat endpoints (web-admin.md §6.2-6.5): send through the one turn pipeline, the SSE stream, cancel,
// ABOUTME: and answering tool approvals and ask_user questions through the same services as the HTTP API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { OutgoingHttpHeaders } from "node:http";
import type { AgentManager } from "../agent/agent-manager.js";
import type { ApprovalService } from "../conversation/approval-service.js";
import type { ConversationService } from "../conversation/conversation-service.js";
import type { QuestionRouter } from "../conversation/question-router.js";
import { isGatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import { isRefusal } from "../lib/refusal.js";
import { webAdminActor } from "../store/audit-repository.js";
import type { AdminSession } from "./admin-sessions.js";
import { runChatStream, type ChatStreamDeps } from "./chat-stream.js";
import { readFormFields } from "./form-body.js";
import { SseResponse } from "./sse-response.js";
import { webErrorOf } from "./web-errors.js";
import type { WebContext } from "./web-context.js";
import { sendJson, sendJsonError, sendText } from "./web-reply.js";

export const CHAT_TEXT = Object.freeze({
  agentIdRequired: "Agent ID required",
  invalidForm: "Invalid form data",
  messageRequired: "Message required",
  notConnected: "Agent not connected",
  sendFailed: "Failed to send message",
  noActiveRequest: "No active request",
  invalidDecision: "Invalid decision",
  questionNotFound: "question not found or already answered",
  /** A tool approval answer that failed for a reason the approval service does not name (a store failure). */
  approvalFailed: "Failed to answer approval",
});

/** The web chat's thread: frontend `webadmin`, external id = the agent id (http-api.md §12). */
export const WEB_FRONTEND = "webadmin";
/** The chat stream's heartbeat comment interval. */
export const CHAT_HEARTBEAT_MS = 30_000;

export interface ChatRouteDeps extends Omit<ChatStreamDeps, "conversations" | "approvals" | "questions"> {
  ctx: WebContext;
  agents: Pick<AgentManager, "get">;
  conversations: Pick<ConversationService, "send" | "cancel" | "snapshotInFlight" | "findInFlight">;
  approvals: Pick<ApprovalService, "answer" | "listPending">;
  questions: Pick<QuestionRouter, "answer" | "listPending">;
  heartbeatMs?: number;
  /** Maintenance and budget checks of ops.md §4.5 (text answers 503 and 402). */
  ops?: SendAdmission | undefined;
}

/** What the web chat send checks before it writes (ops.md §4.5). */
export interface SendAdmission {
  maintenance: { check(): void };
  budgets: { check(input: { principalId: string | null; agentId: string; actor: string }): Promise<void> };
}

/** Runs an admission check; a Refusal becomes its text, anything else propagates. */
async function admissionRefusal(check: () => void | Promise<void>): Promise<string | undefined> {
  try {
    await check();
    return undefined;
  } catch (err) {
    if (isRefusal(err)) return err.message;
    throw err;
  }
}

/** Registers the chat routes; open streams end when the app closes. */
export function chatRoutes(deps: ChatRouteDeps) {
  const { ctx } = deps;
  /** This gateway's in-flight web chat requests, per admin user and agent, oldest first. */
  const inFlight = new Map<string, string[]>();
  const flightKey = (userId: string, agentId: string) => `${userId}\u0000${agentId}`;
  const closing = new AbortController();

  const agentIdOf = (request: FastifyRequest) => (request.params as { agentId?: string }).agentId ?? "";

  return async function registerChatRoutes(app: FastifyInstance): Promise<void> {
    const xhrC = { preHandler: ctx.guard.sessionAndCsrf("xhr") };
    app.addHook("preClose", async () => closing.abort());

    app.post("/chat/:agentId/send", xhrC, async (request, reply) => {
      const session = request.adminSession as AdminSession;
      const agentId = agentIdOf(request);
      if (agentId === "") return sendText(reply, 400, CHAT_TEXT.agentIdRequired);
      const fields = readFormFields(request);
      if (fields === undefined) return sendText(reply, 400, CHAT_TEXT.invalidForm);
      const message = fields.get("message");
      if (message.trim() === "") return sendText(reply, 400, CHAT_TEXT.messageRequired);
      const refusal = await admissionRefusal(() => deps.ops?.maintenance.check());
      if (refusal !== undefined) return sendText(reply.header("retry-after", "60"), 503, refusal);
      if (deps.agents.get(agentId) === undefined) return sendText(reply, 404, CHAT_TEXT.notConnected);
      const overBudget = await admissionRefusal(() =>
        deps.ops?.budgets.check({ principalId: null, agentId, actor: webAdminActor(session.user.id) }),
      );
      if (overBudget !== undefined) return sendText(reply, 402, overBudget);
      try {
        const result = await deps.conversations.send({
          agentId,
          thread: { frontendName: WEB_FRONTEND, externalId: agentId },
          sender: session.user.username,
          content: message,
          actorPrincipalId: null,
          ingress: "webchat",
        });
        if (result.status !== "accepted") return sendText(reply, 500, CHAT_TEXT.sendFailed);
        const key = flightKey(session.user.id, agentId);
        inFlight.set(key, [...(inFlight.get(key) ?? []), result.requestId]);
        const forget = () => {
          const left = (inFlight.get(key) ?? []).filter((id) => id !== result.requestId);
          if (left.length === 0) inFlight.delete(key);
          else inFlight.set(key, left);
        };
        result.finished.then(forget, forget);
        return sendJson(reply, 200, { agent_id: agentId, request_id: result.requestId, status: "sent" });
      } catch (cause) {
        if (isGatewayError(cause, "NOT_FOUND") || isGatewayError(cause, "UNAVAILABLE")) return sendText(reply, 404, CHAT_TEXT.notConnected);
        ctx.log.error("web chat send failed", { agent_id: agentId, cause });
        return sendText(reply, 500, CHAT_TEXT.sendFailed);
      }
    });

    app.post("/chat/:agentId/cancel", xhrC, async (request, reply) => {
      const session = request.adminSession as AdminSession;
      const agentId = agentIdOf(request);
      const fields = readFormFields(request);
      const given = fields?.get("request_id") ?? "";
      const mine = inFlight.get(flightKey(session.user.id, agentId)) ?? [];
      const requestId = given !== "" ? given : mine[mine.length - 1];
      const turn = requestId === undefined ? undefined : deps.conversations.findInFlight(requestId);
      if (requestId === undefined || turn === undefined || turn.agentId !== agentId) return sendText(reply, 404, CHAT_TEXT.noActiveRequest);
      try {
        const { requestId: canceled } = deps.conversations.cancel(requestId, "user_requested");
        return sendJson(reply, 202, { request_id: canceled, status: "canceling" });
      } catch (cause) {
        if (isGatewayError(cause, "NOT_FOUND")) return sendText(reply, 404, CHAT_TEXT.noActiveRequest);
        throw cause;
      }
    });

    app.post("/chat/:agentId/approve", xhrC, async (request, reply) => {
      const session = request.adminSession as AdminSession;
      const fields = readFormFields(request);
      const decision = fields?.get("decision") ?? "";
      if (decision !== "approve" && decision !== "deny" && decision !== "approve_all") return sendText(reply, 400, CHAT_TEXT.invalidDecision);
      return answerApproval(deps, reply, session, agentIdOf(request), fields?.get("tool_id") ?? "", decision);
    });

    app.post("/chat/:agentId/answer", xhrC, async (request, reply) => {
      const session = request.adminSession as AdminSession;
      const fields = readFormFields(request);
      if (fields === undefined) return sendJsonError(reply, 400, CHAT_TEXT.invalidForm);
      try {
        await deps.questions.answer({
          questionId: fields.get("question_id"),
          agentId: agentIdOf(request),
          selected: fields.all("selected"),
          customText: fields.get("custom_text"),
          actor: webAdminActor(session.user.id),
          auditDetail: { username: session.user.username },
        });
        return sendJson(reply, 200, { success: true });
      } catch (cause) {
        if (isGatewayError(cause, "NOT_FOUND")) return sendJsonError(reply, 404, CHAT_TEXT.questionNotFound);
        if (isGatewayError(cause, "INVALID_ARGUMENT")) return sendJsonError(reply, 400, cause.message);
        throw cause;
      }
    });

    app.get("/chat/:agentId/stream", { preHandler: ctx.guard.session("xhr") }, async (request, reply) => {
      const agentId = agentIdOf(request);
      reply.hijack();
      const sse = new SseResponse(reply.raw, reply.getHeaders() as OutgoingHttpHeaders, deps.heartbeatMs ?? CHAT_HEARTBEAT_MS);
      void runChatStream(deps, agentId, sse, closing.signal);
      return reply;
    });
  };
}

/**
 * Answers a tool approval as the web admin user (chat card and approvals page): the approval service's texts and
 * statuses (http-api.md §8), audit `approve_tool` with the username.
 */
export async function answerApproval(
  deps: { approvals: Pick<ApprovalService, "answer">; log: Logger },
  reply: FastifyReply,
  session: AdminSession,
  agentId: string,
  toolId: string,
  decision: "approve" | "deny" | "approve_all",
): Promise<FastifyReply> {
  const outcome = await decideApproval(deps, session, agentId, toolId, decision);
  if (outcome.ok) return sendJson(reply, 200, { approved: decision !== "deny", success: true });
  return sendJsonError(reply, outcome.status, outcome.message);
}

/** Runs the decision; a failure comes back as its status and text instead of throwing. */
export async function decideApproval(
  deps: { approvals: Pick<ApprovalService, "answer">; log: Logger },
  session: AdminSession,
  agentId: string,
  toolId: string,
  decision: "approve" | "deny" | "approve_all",
): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
  if (agentId === "") return { ok: false, status: 400, message: "agent_id is required" };
  if (toolId === "") return { ok: false, status: 400, message: "tool_id is required" };
  try {
    await deps.approvals.answer({
      agentId,
      toolId,
      approved: decision !== "deny",
      approveAll: decision === "approve_all",
      actor: webAdminActor(session.user.id),
      auditDetail: { username: session.user.username },
    });
    return { ok: true };
  } catch (cause) {
    const shown = webErrorOf(cause, CHAT_TEXT.approvalFailed);
    if (shown.isUnexpected) deps.log.error("answering a tool approval failed", { agent_id: agentId, tool_id: toolId, cause });
    return { ok: false, status: shown.status, message: shown.message };
  }
}
