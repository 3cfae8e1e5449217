// ABOUTME: The two send routes (http-api.md §5): POST /api/send and the leader send POST /api/agents/{id}/send.
// ABOUTME: Every check runs in the spec's order; an accepted turn streams as SSE, a duplicate answers JSON.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AgentManager } from "../agent/agent-manager.js";
import type { ConversationService, SendInput, SendResult } from "../conversation/conversation-service.js";
import type { QuestionRouter } from "../conversation/question-router.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError, isGatewayError } from "../lib/gateway-error.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { principalOf } from "./http-auth.js";
import { HttpError, INTERNAL_SERVER_ERROR } from "./http-errors.js";
import { pendingHeaders, sendJson, sendMethodNotAllowed } from "./http-reply.js";
import {
  findDuplicate,
  idempotencyScope,
  readIdempotencyKey,
  requestHash,
  reusedKeyError,
  type IdempotencyClaim,
  type IdempotencyLookup,
} from "./idempotency.js";
import { readJsonObject, stringField } from "./request-body.js";
import { isValidIdSegment } from "./route-input.js";
import { resolveSendTarget, type BindingLookup } from "../conversation/send-target.js";
import type { PrincipalStreams } from "./principal-streams.js";
import type { SseMeter, SseRegistry } from "./sse-channel.js";
import { SseTurnWriter } from "./sse-writer.js";
import type { Budgets } from "../ops/budgets.js";
import type { GatewayMetrics } from "../ops/gateway-metrics.js";

export interface SendRouteDeps {
  agents: AgentManager;
  conversations: ConversationService;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  limits: { sseHeartbeatIntervalMs: number; sseWriteStallTimeoutMs: number };
  registry: SseRegistry;
  bindings: BindingLookup;
  idempotency?: IdempotencyLookup | undefined;
  /** When set, each send stream receives the target agent's `ask_user` questions while its request is in flight. */
  questions?: Pick<QuestionRouter, "addRecipient"> | undefined;
  /** Send streams by caller principal, so revoking or deleting the caller ends its streams (http-api.md §10.4). */
  principalStreams?: PrincipalStreams | undefined;
  /** Maintenance and budget checks of ops.md §4.5 (maintenance after idempotency, budget after the target). */
  ops?: { maintenance: { check(): void }; budgets: Pick<Budgets, "check">; metrics?: SendStreamMetrics } | undefined;
}

/** What the send streams count (ops.md §1.3 `kind="sse"`). */
type SendStreamMetrics = Pick<GatewayMetrics, "subscribers" | "writeWait" | "writeStall">;

function sseMeter(metrics: SendStreamMetrics | undefined): SseMeter | undefined {
  if (metrics === undefined) return undefined;
  return {
    subscribers: (delta) => metrics.subscribers("sse", delta),
    writeWait: () => metrics.writeWait("sse"),
    writeStall: () => metrics.writeStall("sse"),
  };
}

/** The sender recorded for leader sends. */
export const LEADER_SENDER = "coven-leader";

/** Registers `POST /api/send` (every other method gets 405). Must be registered inside the JWT scope. */
export function sendRoutes(deps: SendRouteDeps) {
  return async function registerSendRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/send", async (request, reply) => {
      if (request.method !== "POST") return sendMethodNotAllowed(reply);
      const body = readJsonObject(request);
      const content = stringField(body, "content");
      const sender = stringField(body, "sender");
      const threadId = stringField(body, "thread_id");
      const agentId = stringField(body, "agent_id");
      const frontend = stringField(body, "frontend");
      const channelId = stringField(body, "channel_id");
      if (content === "") throw new GatewayError("INVALID_ARGUMENT", "content is required");
      if (sender === "") throw new GatewayError("INVALID_ARGUMENT", "sender is required");
      const principal = principalOf(request);
      const idempotency = claimFor(request, principal.id, {
        op: "http.send",
        agent_id: agentId,
        frontend,
        channel_id: channelId,
        thread_id: threadId,
        sender,
        content,
      });
      const duplicate = await earlyDuplicate(deps, idempotency);
      if (duplicate) return sendDuplicate(reply, duplicate);
      deps.ops?.maintenance.check();
      const target = await resolveSendTarget({ agentId, frontend, channelId, threadId }, deps);
      await deps.ops?.budgets.check({ principalId: principal.id, agentId: target.agentId, actor: principal.id });
      return streamTurn(reply, deps, {
        agentId: target.agentId,
        thread: target.thread,
        sender,
        content,
        actorPrincipalId: principal.id,
        idempotency,
      });
    });
  };
}

/**
 * The leader send, reached through the `/api/agents/` suffix dispatch with the raw `{id}` segment. A new thread
 * (frontend `leader`, external_id `leader:<uuid>`) on every call; the sender is `coven-leader`.
 */
export function createLeaderSendHandler(deps: SendRouteDeps) {
  return async function leaderSend(request: FastifyRequest, reply: FastifyReply, agentId: string): Promise<FastifyReply> {
    if (request.method !== "POST") return sendMethodNotAllowed(reply);
    if (!isValidIdSegment(agentId)) throw new GatewayError("INVALID_ARGUMENT", "invalid path or agent_id");
    const body = readJsonObject(request);
    const message = stringField(body, "message");
    if (message === "") throw new GatewayError("INVALID_ARGUMENT", "message is required");
    const principal = principalOf(request);
    const idempotency = claimFor(request, principal.id, { op: "http.agent_send", agent_id: agentId, message });
    const duplicate = await earlyDuplicate(deps, idempotency);
    if (duplicate) return sendDuplicate(reply, duplicate);
    deps.ops?.maintenance.check();
    if (deps.agents.get(agentId) === undefined) throw new GatewayError("NOT_FOUND", "agent not found");
    await deps.ops?.budgets.check({ principalId: principal.id, agentId, actor: principal.id });
    return streamTurn(reply, deps, {
      agentId,
      thread: { frontendName: "leader", externalId: `leader:${deps.ids.uuid()}` },
      sender: LEADER_SENDER,
      content: message,
      actorPrincipalId: principal.id,
      idempotency,
      ingress: "http",
    });
  };
}

function claimFor(request: FastifyRequest, principalId: string, fields: Record<string, string>): IdempotencyClaim | undefined {
  const key = readIdempotencyKey(request);
  if (key === undefined) return undefined;
  return { scope: idempotencyScope(principalId), key, requestHash: requestHash(fields) };
}

async function earlyDuplicate(deps: SendRouteDeps, claim: IdempotencyClaim | undefined) {
  if (claim === undefined) return undefined;
  return findDuplicate(deps.idempotency, claim, isoTimestamp(deps.clock.now()));
}

function sendDuplicate(reply: FastifyReply, turn: { messageId: string; threadId: string }): FastifyReply {
  return sendJson(reply, 200, { status: "duplicate", message_id: turn.messageId, thread_id: turn.threadId });
}

/**
 * Runs the turn with an SSE sink. The dispatch happens before the 200 is committed, so its failures are JSON
 * errors: 422 for a reused key, 404 `agent not found` when the agent vanished, 500 otherwise.
 */
async function streamTurn(reply: FastifyReply, deps: SendRouteDeps, input: Omit<SendInput, "sink">): Promise<FastifyReply> {
  const writer = new SseTurnWriter({
    heartbeatIntervalMs: deps.limits.sseHeartbeatIntervalMs,
    writeStallTimeoutMs: deps.limits.sseWriteStallTimeoutMs,
    registry: deps.registry,
    meter: sseMeter(deps.ops?.metrics),
    onClientGone: (requestId, reason) => deps.conversations.clientGone(requestId, reason),
    questions: deps.questions === undefined ? undefined : { router: deps.questions, agentId: input.agentId },
    owner:
      deps.principalStreams === undefined || input.actorPrincipalId === null
        ? undefined
        : { principalId: input.actorPrincipalId, streams: deps.principalStreams },
  });
  let result: SendResult;
  try {
    result = await deps.conversations.send({ ...input, sink: writer });
  } catch (err) {
    writer.discard();
    throw sendFailure(err);
  }
  if (result.status === "duplicate") {
    writer.discard();
    return sendDuplicate(reply, result);
  }
  const { requestId } = result;
  reply.hijack();
  writer.start(reply.raw, pendingHeaders(reply), result);
  result.finished.catch((cause: unknown) => deps.log.error("turn pipeline failed", { request_id: requestId, cause }));
  return reply;
}

function sendFailure(err: unknown): unknown {
  if (isGatewayError(err, "ALREADY_EXISTS")) return reusedKeyError(err);
  if (isGatewayError(err, "NOT_FOUND")) return new HttpError(404, "agent not found", { cause: err });
  return new HttpError(500, INTERNAL_SERVER_ERROR, { cause: err });
}
