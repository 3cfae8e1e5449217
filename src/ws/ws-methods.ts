// ABOUTME: The request methods of protocol 1 (ws.md §3): method and params checks in the spec's order, then the
// ABOUTME: same domain operations as the HTTP API (turn pipeline, cancel, approvals, questions, GetEvents).
import { agentListing } from "../agent/agent-listing.js";
import { getEvents } from "../conversation/get-events.js";
import { requestHash } from "../conversation/idempotency-fingerprint.js";
import { resolveSendTarget } from "../conversation/send-target.js";
import { isoTimestamp } from "../lib/clock.js";
import { GatewayError, isGatewayError } from "../lib/gateway-error.js";
import type { WsDeps } from "./ws-deps.js";
import type { WsIdentity } from "./ws-identity.js";
import { ledgerEventJson } from "./ws-json.js";
import type { WsRun } from "./ws-run.js";
import { METHODS, paramsErrorMessage, type WsValidators } from "./ws-schemas.js";
import type { WsTopics } from "./ws-topics.js";

/** What a method handler sees of its connection. */
export interface MethodContext {
  deps: WsDeps;
  validators: WsValidators;
  identity: WsIdentity;
  topics: WsTopics;
  /** A run sink for `send`; `track` makes it one of the connection's runs once the turn is accepted. */
  newRun(agentId: string): { run: WsRun; track(): void };
}

/** A method's answer: the `res` payload and, for `send` and `subscribe`, what follows it on the wire. */
export interface MethodAnswer {
  payload: Record<string, unknown>;
  afterResponse?: () => void;
  /** The connection closed before the `res` could be written. */
  abandon?: () => void;
}

type Params = Record<string, unknown>;

const DEFAULT_CANCEL_REASON = "user_requested";
const QUESTION_NOT_FOUND = "question not found or already answered";

/**
 * Runs §3 steps 6-9 for one request. Throws GatewayError INVALID_ARGUMENT for method and params failures, and
 * each method's own codes; anything else is an unexpected failure (answered `internal error`).
 */
export async function dispatchRequest(ctx: MethodContext, method: unknown, rawParams: unknown): Promise<MethodAnswer> {
  if (typeof method !== "string" || method === "") throw new GatewayError("INVALID_ARGUMENT", "method is required");
  const spec = METHODS[method];
  if (spec === undefined) throw new GatewayError("INVALID_ARGUMENT", `unknown method ${method}`);
  const params: Params = rawParams === undefined || rawParams === null ? {} : (rawParams as Params);
  if (typeof params !== "object" || Array.isArray(params)) throw new GatewayError("INVALID_ARGUMENT", "params must be of type object");
  const validate = ctx.validators.params.get(method);
  if (validate && !validate(params)) {
    throw new GatewayError("INVALID_ARGUMENT", paramsErrorMessage(spec.fields, params, validate.errors ?? []));
  }
  switch (method) {
    case "agents.list": {
      const workspace = str(params, "workspace");
      const agents = ctx.deps.agents.list().filter((agent) => workspace === "" || agent.workspaces.includes(workspace));
      return { payload: { agents: agents.map(agentListing) } };
    }
    case "send":
      return send(ctx, params);
    case "cancel": {
      const reason = str(params, "reason");
      const { requestId } = ctx.deps.conversations.cancel(str(params, "request_id"), reason === "" ? DEFAULT_CANCEL_REASON : reason);
      return { payload: { request_id: requestId, status: "canceling" } };
    }
    case "tools.approve": {
      const approved = params.approved === true;
      await ctx.deps.approvals.answer({
        agentId: str(params, "agent_id"),
        toolId: str(params, "tool_id"),
        approved,
        approveAll: params.approve_all === true,
        actor: ctx.identity.id,
      });
      return { payload: { approved, success: true } };
    }
    case "questions.answer":
      return answerQuestion(ctx, params);
    case "events.get": {
      const limit = typeof params.limit === "number" ? params.limit : undefined;
      const page = await getEvents(ctx.deps, {
        conversationKey: str(params, "conversation_key"),
        since: str(params, "since"),
        until: str(params, "until"),
        limit,
        cursor: str(params, "cursor"),
      });
      return {
        payload: {
          events: page.events.map(ledgerEventJson),
          has_more: page.hasMore,
          ...(page.nextCursor === undefined ? {} : { next_cursor: page.nextCursor }),
        },
      };
    }
    case "subscribe": {
      const since = params.since_event_id;
      return ctx.topics.subscribe(str(params, "topic"), typeof since === "string" ? since : undefined);
    }
    case "unsubscribe": {
      const topic = str(params, "topic");
      ctx.topics.unsubscribe(topic);
      return { payload: { topic } };
    }
    default:
      return { payload: { ts: isoTimestamp(ctx.deps.clock.now()) } };
  }
}

/** `send` (§3.2): idempotency, target, then the one turn pipeline with this connection's run as its sink. */
async function send(ctx: MethodContext, params: Params): Promise<MethodAnswer> {
  const { deps, identity } = ctx;
  const content = str(params, "content");
  const key = str(params, "idempotency_key");
  const agentId = str(params, "agent_id");
  const frontend = str(params, "frontend");
  const channelId = str(params, "channel_id");
  const threadId = str(params, "thread_id");
  const sender = str(params, "sender") || identity.displayName;
  const hash = requestHash({ op: "ws.send", agent_id: agentId, frontend, channel_id: channelId, thread_id: threadId, sender, content });
  const claim = { scope: identity.idempotencyScope, key, requestHash: hash };
  const existing = await deps.idempotency.find(claim.scope, key, isoTimestamp(deps.clock.now()));
  if (existing !== undefined) {
    if (existing.requestHash !== hash) throw reusedKey();
    return { payload: duplicate(existing) };
  }
  deps.ops?.maintenance.check();
  const target = await resolveSendTarget({ agentId, frontend, channelId, threadId }, deps);
  await deps.ops?.budgets.check({ principalId: identity.ledgerActor, agentId: target.agentId, actor: identity.id });
  const { run, track } = ctx.newRun(target.agentId);
  let result;
  try {
    result = await deps.conversations.send({
      agentId: target.agentId,
      thread: target.thread,
      sender,
      content,
      actorPrincipalId: identity.ledgerActor,
      idempotency: claim,
      sink: run,
      ingress: "ws",
    });
  } catch (err) {
    run.discard();
    if (isGatewayError(err, "ALREADY_EXISTS")) throw reusedKey(err);
    if (isGatewayError(err, "NOT_FOUND")) throw new GatewayError("NOT_FOUND", "agent not found", { cause: err });
    throw err;
  }
  if (result.status === "duplicate") {
    run.discard();
    return { payload: duplicate(result) };
  }
  const accepted = result;
  track();
  accepted.finished.catch((cause: unknown) => deps.log.error("turn pipeline failed", { request_id: accepted.requestId, cause }));
  return {
    payload: { request_id: accepted.requestId, message_id: accepted.messageId, thread_id: accepted.threadId, status: "accepted" },
    afterResponse: () => run.start(accepted),
    abandon: () => {
      run.discard();
      deps.conversations.clientGone(accepted.requestId);
    },
  };
}

async function answerQuestion(ctx: MethodContext, params: Params): Promise<MethodAnswer> {
  const selected = Array.isArray(params.selected) ? (params.selected as string[]) : [];
  const customText = str(params, "custom_text");
  if (selected.length === 0 && customText === "") {
    throw new GatewayError("INVALID_ARGUMENT", "at least one selection or custom_text is required");
  }
  try {
    await ctx.deps.questions.answer({
      agentId: str(params, "agent_id"),
      questionId: str(params, "question_id"),
      selected,
      customText,
      actor: ctx.identity.id,
    });
  } catch (err) {
    if (isGatewayError(err, "NOT_FOUND")) throw new GatewayError("NOT_FOUND", QUESTION_NOT_FOUND, { cause: err });
    throw err;
  }
  return { payload: { success: true } };
}

function duplicate(turn: { requestId: string | null; messageId: string; threadId: string }): Record<string, unknown> {
  return {
    ...(turn.requestId === null ? {} : { request_id: turn.requestId }),
    message_id: turn.messageId,
    thread_id: turn.threadId,
    status: "duplicate",
  };
}

function reusedKey(cause?: unknown): GatewayError {
  return new GatewayError("ALREADY_EXISTS", "idempotency_key reused with different content", { cause });
}

/** A validated optional string param; `""` when absent or null. */
function str(params: Params, name: string): string {
  const value = params[name];
  return typeof value === "string" ? value : "";
}
