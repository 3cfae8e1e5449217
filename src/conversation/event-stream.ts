// ABOUTME: The StreamEvents engine (services.md StreamEvents), transport-agnostic: subscribe, replay, catch up, live.
// ABOUTME: Gap-free and duplicate-free by ledger seq; a slow consumer gets a final item naming its resume point.
import type { AgentEvent, AgentProgressEvent, AgentTerminalEvent, TokenUsage, ToolStateName } from "../agent/agent-events.js";
import { TERMINAL_TEXT } from "../agent/agent-events.js";
import { GatewayError, type ErrorCode } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import type { ToolApproval } from "../store/approval-repository.js";
import type { LedgerEvent, LedgerRepository } from "../store/ledger-repository.js";
import type { EventHub, HubEvent, SubscriptionEnd } from "./event-hub.js";
import type { UserQuestion } from "../store/question-repository.js";
import type { TurnCatchUpSnapshot } from "./turn-catch-up.js";

/** Newest-history replay size without a (known) `since_event_id`. */
export const REPLAY_NEWEST = 50;
/** Page size of the exact resume after `since_event_id`. */
export const RESUME_PAGE = 100;
/** The hub queue bound per subscriber (services.md §4). */
export const SUBSCRIBER_QUEUE = 1024;
/** A stream with nothing to send for this long ends OK. */
export const IDLE_TIMEOUT_MS = 5 * 60 * 1000;

/** One ClientStreamEvent payload, in domain terms (the rpc edge maps each kind to its proto variant). */
export type StreamPayload =
  | { kind: "event"; event: LedgerEvent }
  | { kind: "text"; content: string }
  | { kind: "thinking"; content: string }
  | { kind: "tool_use"; id: string; name: string; inputJson: string }
  | { kind: "tool_result"; id: string; output: string; isError: boolean }
  | { kind: "tool_state"; id: string; state: ToolStateName; detail: string }
  | ({ kind: "usage" } & TokenUsage)
  /** The turn's final content: its joined text, else the agent's full_response (unset on the wire if empty). */
  | { kind: "done"; fullResponse: string }
  | { kind: "error"; message: string; recoverable: boolean }
  | { kind: "tool_approval"; agentId: string; requestId: string; toolId: string; toolName: string; inputJson: string }
  | { kind: "user_question"; question: UserQuestion };

/** One message for the client. `timestamp` is the ledger timestamp for `event`, else the gateway's receive time. */
export interface StreamMessage {
  kind: "message";
  conversationKey: string;
  timestamp: string;
  /** The agent request the payload belongs to, when it has one. */
  requestId: string | undefined;
  payload: StreamPayload;
}

/**
 * The last item of a stream that the server ended: `slow_consumer` (RESOURCE_EXHAUSTED), `idle_timeout` (OK) or
 * `ended` (the status given to `end`, e.g. shutdown). `resumeFromEventId` is the last ledger event the client got
 * (or the valid `since_event_id` it came with): pass it as `since_event_id` to continue without loss.
 */
export interface StreamEndItem {
  kind: "end";
  reason: "slow_consumer" | "idle_timeout" | "ended";
  code: "OK" | ErrorCode;
  message: string;
  resumeFromEventId: string | undefined;
}

export type EventStreamItem = StreamMessage | StreamEndItem;

/**
 * An open StreamEvents subscription. Iterate it once. `close()` when the client goes away (it also wakes a
 * pending `next()`); `end(status)` to finish with a final `ended` item (shutdown, revocation).
 */
export interface EventStream extends AsyncIterable<EventStreamItem> {
  end(status: { code: "OK" | ErrorCode; message: string }): void;
  close(): void;
}

export interface EventStreamDeps {
  ledger: LedgerRepository;
  hub: EventHub;
  /** ConversationService: the agent's in-flight turns, taken in the same step as the subscription. */
  inFlight: { snapshotInFlight(agentId: string): TurnCatchUpSnapshot[] };
  approvals: { listPending(agentId?: string): Promise<ToolApproval[]> };
  questions: { listPending(agentId?: string): Promise<UserQuestion[]> };
  log: Logger;
  maxQueue?: number;
  /** 0 disables the idle end. */
  idleTimeoutMs?: number;
}

export interface OpenEventStreamInput {
  conversationKey: string;
  /** Resume exactly after this event; empty, unknown or another conversation's id means the newest 50. */
  sinceEventId?: string | undefined;
}

const SLOW_CONSUMER_MESSAGE = "subscriber too slow; resume with since_event_id";

/**
 * Opens a StreamEvents subscription: the hub topic is subscribed and the in-flight turns are snapshotted at once,
 * before anything is read. Throws INVALID_ARGUMENT `conversation_key required`. Iteration throws INTERNAL `failed
 * to fetch events` when a store read fails.
 */
export function openEventStream(deps: EventStreamDeps, input: OpenEventStreamInput): EventStream {
  const key = input.conversationKey;
  if (key === "") throw new GatewayError("INVALID_ARGUMENT", "conversation_key required");
  const sub = deps.hub.subscribe(key, { maxQueue: deps.maxQueue ?? SUBSCRIBER_QUEUE, kind: "stream_events" });
  const turns = deps.inFlight.snapshotInFlight(key);

  let subEnd: SubscriptionEnd | undefined;
  sub.ended.then((end) => (subEnd = end)).catch(() => {});
  let closed = false;
  let requestedEnd: { code: "OK" | ErrorCode; message: string } | undefined;
  let lastEventId: string | undefined;
  const textOf = new Map<string, { hasText: boolean; text: string }>();
  const shownApprovals = new Set<string>();
  const shownQuestions = new Set<string>();

  const message = (timestamp: string, requestId: string | undefined, payload: StreamPayload): StreamMessage => ({
    kind: "message",
    conversationKey: key,
    timestamp,
    requestId,
    payload,
  });
  const ledgerMessage = (event: LedgerEvent): StreamMessage => {
    lastEventId = event.eventId;
    return message(event.timestamp, event.requestId ?? undefined, { kind: "event", event });
  };
  const endItem = (reason: StreamEndItem["reason"], code: "OK" | ErrorCode, text: string): StreamEndItem => ({
    kind: "end",
    reason,
    code,
    message: text,
    resumeFromEventId: lastEventId,
  });
  /** Why the stream must stop now: `closed` (no final item), an end item, or undefined to go on. */
  const stopNow = (): StreamEndItem | "closed" | undefined => {
    if (requestedEnd) return endItem("ended", requestedEnd.code, requestedEnd.message);
    if (closed) return "closed";
    if (subEnd?.reason === "slow_consumer") return endItem("slow_consumer", "RESOURCE_EXHAUSTED", SLOW_CONSUMER_MESSAGE);
    return undefined;
  };
  const read = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      deps.log.error("stream events read failed", { conversation_key: key, step: what, cause: err });
      throw new GatewayError("INTERNAL", "failed to fetch events", { cause: err, reason: "events_fetch_failed" });
    }
  };
  const approvalKey = (requestId: string, toolId: string) => `${requestId}\u0000${toolId}`;
  const approvalMessage = (approval: ToolApproval, at: string): StreamMessage =>
    message(at, approval.requestId, {
      kind: "tool_approval",
      agentId: approval.agentId,
      requestId: approval.requestId,
      toolId: approval.toolId,
      toolName: approval.toolName,
      inputJson: approval.inputJson,
    });

  /** Maps one live agent event; keeps the per-turn text that `done` reports. */
  const agentPayload = (requestId: string, event: AgentEvent): StreamPayload | undefined => {
    if (event.kind === "text") {
      const t = textOf.get(requestId);
      textOf.set(requestId, { hasText: true, text: (t?.text ?? "") + event.text });
    }
    if (event.kind === "done") {
      const t = textOf.get(requestId);
      textOf.delete(requestId);
      return { kind: "done", fullResponse: t?.hasText ? t.text : event.fullResponse };
    }
    if (event.kind === "error" || event.kind === "canceled") {
      textOf.delete(requestId);
      return terminalError(event);
    }
    return progressPayload(event);
  };

  /** Maps one live hub event to what the client gets (nothing for duplicates and kinds without a variant). */
  const live = (event: HubEvent, replayedUpTo: number): StreamMessage | undefined => {
    switch (event.kind) {
      case "ledger":
        return event.event.seq <= replayedUpTo ? undefined : ledgerMessage(event.event);
      case "agent": {
        if (event.event.kind === "tool_approval") {
          const k = approvalKey(event.requestId, event.event.id);
          if (shownApprovals.has(k)) return undefined;
          shownApprovals.add(k);
          return message(event.at, event.requestId, {
            kind: "tool_approval",
            agentId: key,
            requestId: event.requestId,
            toolId: event.event.id,
            toolName: event.event.name,
            inputJson: event.event.inputJson,
          });
        }
        const payload = agentPayload(event.requestId, event.event);
        return payload === undefined ? undefined : message(event.at, event.requestId, payload);
      }
      case "approval": {
        const k = approvalKey(event.approval.requestId, event.approval.toolId);
        if (shownApprovals.has(k)) return undefined;
        shownApprovals.add(k);
        return approvalMessage(event.approval, event.at);
      }
      case "approval_resolved":
        shownApprovals.delete(approvalKey(event.approval.requestId, event.approval.toolId));
        return undefined;
      case "question":
        if (shownQuestions.has(event.question.questionId)) return undefined;
        shownQuestions.add(event.question.questionId);
        return message(event.at, undefined, { kind: "user_question", question: event.question });
      case "question_resolved":
        return undefined;
    }
  };

  const idleMs = deps.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const iterator = sub[Symbol.asyncIterator]();
  // One idle deadline per quiet period: it restarts only when something was sent, not for skipped hub events.
  let idle: { promise: Promise<"idle">; timer: NodeJS.Timeout } | undefined;
  const stopIdle = () => {
    if (idle) clearTimeout(idle.timer);
    idle = undefined;
  };
  const nextLive = (): Promise<IteratorResult<HubEvent> | "idle"> => {
    if (idleMs <= 0) return iterator.next();
    if (!idle) {
      let timer!: NodeJS.Timeout;
      const promise = new Promise<"idle">((resolve) => {
        timer = setTimeout(() => resolve("idle"), idleMs);
      });
      idle = { promise, timer };
    }
    return Promise.race([iterator.next(), idle.promise]);
  };

  async function* run(): AsyncGenerator<EventStreamItem> {
    try {
      // Step 3: replay. R is the highest seq the client has (replayed, or the resume point itself).
      let replayedUpTo = 0;
      const since = input.sinceEventId ? await read("resume point", () => deps.ledger.findByEventId(input.sinceEventId as string, key)) : undefined;
      if (since) {
        replayedUpTo = since.seq;
        lastEventId = since.eventId;
      }
      let page = since
        ? await read("resume", () => deps.ledger.listConversationAfterSeq(key, replayedUpTo, RESUME_PAGE))
        : await read("replay", () => deps.ledger.newestInConversation(key, REPLAY_NEWEST));
      for (;;) {
        for (const event of page) {
          const stop = stopNow();
          if (stop !== undefined) {
            if (stop !== "closed") yield stop;
            return;
          }
          replayedUpTo = Math.max(replayedUpTo, event.seq);
          yield ledgerMessage(event);
        }
        if (!since || page.length < RESUME_PAGE) break;
        page = await read("resume", () => deps.ledger.listConversationAfterSeq(key, replayedUpTo, RESUME_PAGE));
      }

      // Step 4: what the agent's in-flight turns produced so far.
      for (const turn of turns) {
        textOf.set(turn.requestId, { hasText: turn.hasText, text: turn.text });
        for (const item of turn.items) {
          const payload = progressPayload(item.event);
          if (payload === undefined) continue;
          const stop = stopNow();
          if (stop !== undefined) {
            if (stop !== "closed") yield stop;
            return;
          }
          yield message(item.at, turn.requestId, payload);
        }
      }

      // Step 5: pending approvals, then pending questions, oldest first.
      const approvals = await read("pending approvals", () => deps.approvals.listPending(key));
      const questions = await read("pending questions", () => deps.questions.listPending(key));
      const prompts: StreamMessage[] = [];
      for (const approval of approvals) {
        shownApprovals.add(approvalKey(approval.requestId, approval.toolId));
        prompts.push(approvalMessage(approval, approval.createdAt));
      }
      for (const question of questions) {
        shownQuestions.add(question.questionId);
        prompts.push(message(question.createdAt, undefined, { kind: "user_question", question }));
      }
      for (const prompt of prompts) {
        const stop = stopNow();
        if (stop !== undefined) {
          if (stop !== "closed") yield stop;
          return;
        }
        yield prompt;
      }

      // Step 6: live, skipping what replay and step 5 already sent.
      for (;;) {
        const stop = stopNow();
        if (stop !== undefined) {
          if (stop !== "closed") yield stop;
          return;
        }
        const next = await nextLive();
        if (next === "idle") {
          yield endItem("idle_timeout", "OK", "");
          return;
        }
        if (next.done) {
          subEnd = await sub.ended;
          const final = stopNow();
          if (final !== undefined && final !== "closed") yield final;
          return;
        }
        const item = live(next.value, replayedUpTo);
        if (item !== undefined) {
          stopIdle();
          yield item;
        }
      }
    } finally {
      stopIdle();
      sub.close();
    }
  }

  const generator = run();
  return {
    [Symbol.asyncIterator]: () => generator,
    end(status) {
      requestedEnd ??= status;
      sub.close();
    },
    close() {
      closed = true;
      sub.close();
    },
  };
}

/** The payload of a non-terminal agent event; undefined for kinds StreamEvents does not carry. */
function progressPayload(event: AgentProgressEvent): StreamPayload | undefined {
  switch (event.kind) {
    case "text":
      return { kind: "text", content: event.text };
    case "thinking":
      return { kind: "thinking", content: event.text };
    case "tool_use":
      return { kind: "tool_use", id: event.id, name: event.name, inputJson: event.inputJson };
    case "tool_result":
      return { kind: "tool_result", id: event.id, output: event.output, isError: event.isError };
    case "tool_state":
      return { kind: "tool_state", id: event.id, state: event.state, detail: event.detail };
    case "usage":
      return {
        kind: "usage",
        inputTokens: event.inputTokens,
        outputTokens: event.outputTokens,
        cacheReadTokens: event.cacheReadTokens,
        cacheWriteTokens: event.cacheWriteTokens,
        thinkingTokens: event.thinkingTokens,
      };
    case "tool_approval":
    case "file":
    case "session_init":
    case "session_orphaned":
      return undefined;
  }
}

/** The `error` payload of a terminal event (services.md StreamEvents payload table). */
function terminalError(event: Exclude<AgentTerminalEvent, { kind: "done" }>): StreamPayload {
  if (event.kind === "canceled") {
    const text = event.origin === "agent" && event.reason === "" ? "canceled" : `canceled: ${event.reason}`;
    return { kind: "error", message: text, recoverable: false };
  }
  const recoverable =
    event.origin === "gateway" && (event.error === TERMINAL_TEXT.agentDisconnected || event.error === TERMINAL_TEXT.shuttingDown);
  return { kind: "error", message: event.error, recoverable };
}
