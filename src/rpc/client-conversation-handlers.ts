// ABOUTME: The conversation RPCs of coven.ClientService (GetEvents, SendMessage, StreamEvents, ListAgents, ApproveTool,
// ABOUTME: AnswerQuestion) as one handler set, plus the registry that ends live StreamEvents on revocation or shutdown.
import { create } from "@bufbuild/protobuf";
import { Metadata, type ServerWritableStream } from "@grpc/grpc-js";
import type { AgentManager } from "../agent/agent-manager.js";
import type { ApprovalService } from "../conversation/approval-service.js";
import type { ConversationService } from "../conversation/conversation-service.js";
import type { EventHub } from "../conversation/event-hub.js";
import { openEventStream, type EventStream, type EventStreamDeps, type StreamEndItem } from "../conversation/event-stream.js";
import { getEvents } from "../conversation/get-events.js";
import type { QuestionRouter } from "../conversation/question-router.js";
import * as pb from "../gen/coven_pb.js";
import { GatewayError, isGatewayError, type ErrorCode } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import { createWarnLimiter } from "../lib/warn-limiter.js";
import type { LedgerRepository } from "../store/ledger-repository.js";
import {
  clientSendRequestHash,
  decodeAttachments,
  encodeAgentInfo,
  encodeLedgerEvent,
  encodeStreamMessage,
} from "./conversation-codec.js";
import type { Budgets } from "../ops/budgets.js";
import type { RateLimits } from "../ops/rate-limits.js";
import type { RpcPrincipal } from "./rpc-auth.js";
import { authenticatedServerStream, authenticatedUnary, methodPath, type RpcHandlerFactory } from "./rpc-handlers.js";
import { grpcStatusOf, toGrpcError } from "./status-map.js";

/** The longest `idempotency_key` (store.md §7: 1-100 chars). */
export const MAX_IDEMPOTENCY_KEY_CHARS = 100;
/**
 * Trailing metadata of a StreamEvents call that the server ended: the last ledger event the client received, to
 * pass back as `since_event_id`. The status message itself stays the spec's exact text.
 */
export const RESUME_TRAILER = "x-coven-resume-since-event-id";

export interface ClientConversationDeps {
  conversations: Pick<ConversationService, "send" | "snapshotInFlight">;
  agents: Pick<AgentManager, "list">;
  ledger: LedgerRepository;
  hub: EventHub;
  approvals: Pick<ApprovalService, "answer" | "listPending">;
  questions: Pick<QuestionRouter, "answer" | "listPending">;
  log: Logger;
  /** Operations (ops.md §2, §4.5): `grpc_send` before step 1, then maintenance and budgets after idempotency. */
  ops?: {
    limits: Pick<RateLimits, "check">;
    maintenance: { check(): void };
    budgets: Pick<Budgets, "check">;
  };
  /** StreamEvents engine bounds: the subscriber queue (default 1024) and the idle end (default 5 min; 0 = off). */
  stream?: { maxQueue?: number; idleTimeoutMs?: number };
}

type StreamStatus = { code: "OK" | ErrorCode; message: string };

/** The handler set and the live StreamEvents calls it serves. */
export interface ClientConversationHandlers {
  /** Pass in `createClientService({ handlers: [...] })`. */
  readonly handlers: RpcHandlerFactory;
  /**
   * Ends every live StreamEvents call of a principal with `status` (auth.md §14: revoked PERMISSION_DENIED
   * `principal has been revoked`, deleted UNAUTHENTICATED `principal not found`). Returns how many were ended.
   */
  closePrincipal(principalId: string, status: StreamStatus): number;
  /** Ends every live StreamEvents call with UNAVAILABLE `gateway shutting down` and refuses new ones. */
  shutdown(): number;
  /** Number of StreamEvents calls currently served. */
  readonly liveStreams: number;
}

interface LiveStream {
  principalId: string;
  stream: EventStream;
  /** Stops waiting for the client to drain, so a requested end is sent at once. */
  wake: () => void;
}

/** ops.md §6: one warn line per conversation per minute for slow StreamEvents subscribers. */
const slowWarns = createWarnLimiter();

const SHUTTING_DOWN: StreamStatus = { code: "UNAVAILABLE", message: "gateway shutting down" };

/**
 * Builds the conversation handlers of ClientService (services.md §3). Unary failures map through status-map;
 * ApproveTool and AnswerQuestion report the domain's refusals in the response body, as the spec requires.
 */
export function createClientConversationHandlers(deps: ClientConversationDeps): ClientConversationHandlers {
  const live = new Set<LiveStream>();
  let isShuttingDown = false;
  const streamDeps: EventStreamDeps = {
    ledger: deps.ledger,
    hub: deps.hub,
    inFlight: deps.conversations,
    approvals: deps.approvals,
    questions: deps.questions,
    log: deps.log,
    maxQueue: deps.stream?.maxQueue,
    idleTimeoutMs: deps.stream?.idleTimeoutMs,
  };
  const endWhere = (match: (entry: LiveStream) => boolean, status: StreamStatus): number => {
    let n = 0;
    for (const entry of [...live]) {
      if (!match(entry)) continue;
      entry.stream.end(status);
      entry.wake();
      n += 1;
    }
    return n;
  };

  const handlers: RpcHandlerFactory = (rpc) => {
    const path = (name: string) => methodPath(pb.ClientService, name);
    return {
      GetEvents: authenticatedUnary<pb.GetEventsRequest, pb.GetEventsResponse>(rpc, path("GetEvents"), async (req) => {
        const page = await getEvents(deps, {
          conversationKey: req.conversationKey,
          since: req.since,
          until: req.until,
          limit: req.limit,
          cursor: req.cursor,
        });
        return create(pb.GetEventsResponseSchema, {
          events: page.events.map(encodeLedgerEvent),
          nextCursor: page.hasMore ? page.nextCursor : undefined,
          hasMore: page.hasMore,
        });
      }),
      SendMessage: authenticatedUnary<pb.ClientSendMessageRequest, pb.ClientSendMessageResponse>(rpc, path("SendMessage"), (req, caller) =>
        sendMessage(deps, req, caller),
      ),
      StreamEvents: authenticatedServerStream<pb.StreamEventsRequest, pb.ClientStreamEvent>(rpc, path("StreamEvents"), async (call, caller) => {
        if (call.cancelled) return;
        const stream = openEventStream(streamDeps, { conversationKey: call.request.conversationKey, sinceEventId: call.request.sinceEventId });
        const entry: LiveStream = { principalId: caller.id, stream, wake: () => {} };
        live.add(entry);
        if (isShuttingDown) stream.end(SHUTTING_DOWN);
        try {
          await serveStream(call, entry, deps.log, path("StreamEvents"));
        } finally {
          live.delete(entry);
        }
      }),
      ListAgents: authenticatedUnary<pb.ListAgentsRequest, pb.ListAgentsResponse>(rpc, path("ListAgents"), async (req) => {
        const workspace = req.workspace ?? "";
        const agents = deps.agents.list().filter((agent) => workspace === "" || agent.workspaces.includes(workspace));
        return create(pb.ListAgentsResponseSchema, { agents: agents.map(encodeAgentInfo) });
      }),
      ApproveTool: authenticatedUnary<pb.ApproveToolRequest, pb.ApproveToolResponse>(rpc, path("ApproveTool"), async (req, caller) => {
        if (req.agentId === "") throw new GatewayError("INVALID_ARGUMENT", "agent_id required");
        if (req.toolId === "") throw new GatewayError("INVALID_ARGUMENT", "tool_id required");
        const outcome = await inBody(() =>
          deps.approvals.answer({ agentId: req.agentId, toolId: req.toolId, approved: req.approved, approveAll: req.approveAll, actor: caller.id }),
        );
        return create(pb.ApproveToolResponseSchema, outcome);
      }),
      AnswerQuestion: authenticatedUnary<pb.AnswerQuestionRequest, pb.AnswerQuestionResponse>(rpc, path("AnswerQuestion"), async (req, caller) => {
        if (req.agentId === "") throw new GatewayError("INVALID_ARGUMENT", "agent_id required");
        if (req.questionId === "") throw new GatewayError("INVALID_ARGUMENT", "question_id required");
        const outcome = await inBody(() =>
          deps.questions.answer({
            agentId: req.agentId,
            questionId: req.questionId,
            selected: [...req.selected],
            customText: req.customText,
            actor: caller.id,
          }),
        );
        return create(pb.AnswerQuestionResponseSchema, outcome);
      }),
    };
  };

  return {
    handlers,
    closePrincipal: (principalId, status) => endWhere((entry) => entry.principalId === principalId, status),
    shutdown() {
      isShuttingDown = true;
      return endWhere(() => true, SHUTTING_DOWN);
    },
    get liveStreams() {
      return live.size;
    },
  };
}

/**
 * SendMessage (services.md §3): checks in spec order, then one idempotent turn on the thread (client,
 * conversation_key). Throws INVALID_ARGUMENT (`idempotency_key required`, `idempotency_key too long`,
 * `conversation_key required`, `content required`), ALREADY_EXISTS `idempotency_key reused with different
 * content`, NOT_FOUND `agent not found`, UNAVAILABLE `agent unavailable`, INTERNAL `failed to store message`.
 */
async function sendMessage(deps: ClientConversationDeps, req: pb.ClientSendMessageRequest, caller: RpcPrincipal): Promise<pb.ClientSendMessageResponse> {
  const ops = deps.ops;
  ops?.limits.check("grpc_send", caller.id);
  if (req.idempotencyKey === "") throw new GatewayError("INVALID_ARGUMENT", "idempotency_key required");
  if ([...req.idempotencyKey].length > MAX_IDEMPOTENCY_KEY_CHARS) throw new GatewayError("INVALID_ARGUMENT", "idempotency_key too long");
  if (req.conversationKey === "") throw new GatewayError("INVALID_ARGUMENT", "conversation_key required");
  if (req.content === "") throw new GatewayError("INVALID_ARGUMENT", "content required");
  let result;
  try {
    result = await deps.conversations.send({
      agentId: req.conversationKey,
      thread: { frontendName: "client", externalId: req.conversationKey },
      sender: "client",
      content: req.content,
      attachments: decodeAttachments(req.attachments),
      actorPrincipalId: caller.id,
      idempotency: { scope: `principal:${caller.id}`, key: req.idempotencyKey, requestHash: clientSendRequestHash(req) },
      ingress: "grpc",
      ...(ops === undefined
        ? {}
        : {
            admit: async () => {
              ops.maintenance.check();
              await ops.budgets.check({ principalId: caller.id, agentId: req.conversationKey, actor: caller.id });
            },
          }),
    });
  } catch (err) {
    if (isGatewayError(err, "ALREADY_EXISTS")) {
      throw new GatewayError("ALREADY_EXISTS", "idempotency_key reused with different content", { cause: err });
    }
    if (isGatewayError(err) && err.code !== "INTERNAL") throw err;
    deps.log.error("storing client message failed", { conversation_key: req.conversationKey, cause: err });
    throw new GatewayError("INTERNAL", "failed to store message", { cause: err });
  }
  return create(pb.ClientSendMessageResponseSchema, { status: result.status, messageId: result.messageId });
}

/** Runs a domain answer; its GatewayError refusals become `{success:false, error}`, other errors propagate. */
async function inBody(answer: () => Promise<unknown>): Promise<{ success: boolean; error?: string }> {
  try {
    await answer();
    return { success: true };
  } catch (err) {
    if (isGatewayError(err)) return { success: false, error: err.message };
    throw err;
  }
}

/**
 * Pumps one StreamEvents subscription into the call: headers first, then every item in order, waiting for the
 * client to drain when grpc-js buffers are full. Ends with the engine's final status (slow consumer, idle,
 * requested end) and its resume point as a trailer; a client cancel closes the subscription with no status.
 */
async function serveStream(call: ServerWritableStream<pb.StreamEventsRequest, pb.ClientStreamEvent>, entry: LiveStream, log: Logger, path: string): Promise<void> {
  const { stream } = entry;
  const onGone = () => stream.close();
  call.once("cancelled", onGone);
  call.once("close", onGone);
  try {
    call.sendMetadata(new Metadata());
    for await (const item of stream) {
      if (item.kind === "end") {
        if (item.reason === "slow_consumer") {
          slowWarns.warn(log, `subscriber_overflow\u0000${call.request.conversationKey}`, "StreamEvents subscriber too slow; disconnected", { conversation_key: call.request.conversationKey, principal_id: entry.principalId });
        }
        finish(call, item);
        return;
      }
      if (!(await writeMessage(call, encodeStreamMessage(item), entry))) stream.close();
    }
  } catch (err) {
    if (!call.writableEnded && !call.destroyed) call.emit("error", toGrpcError(err, log, { path }));
  } finally {
    call.off("cancelled", onGone);
    call.off("close", onGone);
    stream.close();
  }
}

/** Writes one message; when grpc-js signals backpressure, waits for `drain`. False once the call is gone. */
function writeMessage(call: ServerWritableStream<unknown, pb.ClientStreamEvent>, message: pb.ClientStreamEvent, entry: LiveStream): Promise<boolean> {
  if (call.cancelled || call.destroyed || call.writableEnded) return Promise.resolve(false);
  if (call.write(message)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (isOpen: boolean) => () => {
      call.off("drain", onDrain);
      call.off("cancelled", onGone);
      call.off("close", onGone);
      entry.wake = () => {};
      resolve(isOpen);
    };
    const onDrain = settle(true);
    const onGone = settle(false);
    call.on("drain", onDrain);
    call.on("cancelled", onGone);
    call.on("close", onGone);
    entry.wake = onDrain;
  });
}

/** Sends the final status of an engine end item, with the resume point as trailing metadata. */
function finish(call: ServerWritableStream<unknown, pb.ClientStreamEvent>, item: StreamEndItem): void {
  if (call.cancelled || call.destroyed || call.writableEnded) return;
  const trailers = new Metadata();
  if (item.resumeFromEventId !== undefined) trailers.set(RESUME_TRAILER, item.resumeFromEventId);
  if (item.code === "OK") {
    call.end(trailers);
    return;
  }
  call.emit("error", { code: grpcStatusOf(item.code), details: item.message, message: item.message, metadata: trailers });
}
