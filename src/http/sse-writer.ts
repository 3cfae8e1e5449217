// ABOUTME: The SSE TurnSink of the send streams: `started` first, then every agent event in order, then exactly
// ABOUTME: one terminal event and the end of the response. Pushes back on the turn pipeline through `deliver`.
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { TERMINAL_TEXT, isTerminal, type AgentEvent } from "../agent/agent-events.js";
import type { TurnSink } from "../conversation/conversation-service.js";
import type { UserQuestion } from "../store/question-repository.js";
import type { QuestionRouter } from "../conversation/question-router.js";
import { PRINCIPAL_REVOKED_REASON, type PrincipalBoundStream, type PrincipalStreams } from "./principal-streams.js";
import { SseChannel, type SseMeter, type SseRegistry } from "./sse-channel.js";
import { userQuestionData } from "../conversation/agent-event-data.js";
import { agentEventFrame, sseFrame, startedFrame } from "./sse-events.js";

export interface SseTurnWriterOptions {
  heartbeatIntervalMs: number;
  writeStallTimeoutMs: number;
  registry?: SseRegistry;
  meter?: SseMeter | undefined;
  /**
   * Told once when the client went away (disconnect or stalled write) before the terminal event was written, or
   * with reason `principal_revoked` when the stream was ended because its owner was revoked or deleted.
   */
  onClientGone: (requestId: string, reason?: string) => void;
  /** The caller that opened the stream: revoking or deleting it ends the stream (http-api.md §10.4). */
  owner?: { principalId: string; streams: PrincipalStreams };
  /**
   * Makes the stream a question recipient of `agentId` (packs-mcp.md §5.5) from construction until its terminal
   * event, its client going away, or `discard`. Questions are written as `user_question`, after `started`.
   */
  questions?: { router: Pick<QuestionRouter, "addRecipient">; agentId: string };
}

/** The `user_question` frame of http-api.md §10.3: `header` and option `description` are `""` when unset. */
export function userQuestionFrame(question: UserQuestion): string {
  return sseFrame("user_question", userQuestionData(question));
}

/** What the `started` event reports. */
export interface TurnStarted {
  messageId: string;
  requestId: string;
  threadId: string;
}

/**
 * Created before the turn is dispatched and handed to `ConversationService.send` as its sink, then started once
 * the dispatch succeeded (or discarded when it did not). Deliveries that arrive before `start` wait for it, so
 * nothing is lost or reordered. Once the client is gone, `deliver` resolves at once: the pipeline keeps
 * persisting the turn without this client.
 */
export class SseTurnWriter implements TurnSink, PrincipalBoundStream {
  #options: SseTurnWriterOptions;
  #channel: Promise<SseChannel | undefined>;
  #resolveChannel!: (channel: SseChannel | undefined) => void;
  #isStarted = false;
  #isTerminated = false;
  #removeRecipient: (() => void) | undefined;
  #untrackOwner: (() => void) | undefined;
  /** Set when the owner was removed before `start`: the stream then ends right after `started`. */
  #removedText: string | undefined;
  #requestId: string | undefined;

  constructor(options: SseTurnWriterOptions) {
    this.#options = options;
    this.#channel = new Promise((resolve) => {
      this.#resolveChannel = resolve;
    });
    const questions = options.questions;
    this.#removeRecipient = questions?.router.addRecipient(questions.agentId, {
      deliverQuestion: (question) => this.#deliverQuestion(question),
    });
    const owner = options.owner;
    this.#untrackOwner = owner?.streams.track(owner.principalId, this);
  }

  /** Resolves once the stream is over (ended, client gone, or discarded). */
  get settled(): Promise<void> {
    return this.#channel.then((channel) => channel?.settled);
  }

  /**
   * Commits the 200 with the SSE headers (plus `headers`, e.g. the CSP) and writes `started`. Call once, after
   * the turn was accepted and the fastify reply hijacked.
   */
  start(response: ServerResponse, headers: OutgoingHttpHeaders, started: TurnStarted): void {
    if (this.#isStarted) return;
    this.#isStarted = true;
    this.#requestId = started.requestId;
    const channel = new SseChannel({
      response,
      headers,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs,
      writeStallTimeoutMs: this.#options.writeStallTimeoutMs,
      registry: this.#options.registry,
      meter: this.#options.meter,
      shutdownFrame: sseFrame("error", { error: TERMINAL_TEXT.shuttingDown }),
      onGone: () => {
        this.#stopQuestions();
        if (!this.#isTerminated) this.#options.onClientGone(started.requestId);
      },
    });
    void channel.settled.then(() => {
      this.#stopQuestions();
      this.#stopTracking();
    });
    channel.open(startedFrame(started));
    this.#resolveChannel(channel);
    if (this.#removedText !== undefined) this.#endRemoved(channel, started.requestId, this.#removedText);
  }

  /** The turn was not started (dispatch failed or duplicate): any delivery resolves at once. */
  discard(): void {
    if (this.#isStarted) return;
    this.#isStarted = true;
    this.#stopQuestions();
    this.#stopTracking();
    this.#resolveChannel(undefined);
  }

  /**
   * The owner was revoked or deleted: writes the terminal `error` `{"error": text}` after everything queued, ends
   * the response and cancels the request with reason `principal_revoked`. Later agent events are not written.
   * Before `start` the stream is ended right after its `started` event. A no-op once the stream is over.
   */
  endForRemovedPrincipal(text: string): void {
    if (this.#isTerminated) return;
    this.#isTerminated = true;
    this.#stopQuestions();
    this.#stopTracking();
    if (!this.#isStarted) {
      this.#removedText = text;
      return;
    }
    void this.#channel.then((channel) => {
      if (channel !== undefined) this.#endRemoved(channel, this.#requestId ?? "", text);
    });
  }

  /**
   * Writes one agent event; a terminal event is written last and ends the response. Resolves when the write was
   * accepted, or at once when the client is gone or the stream already ended.
   */
  async deliver(event: AgentEvent): Promise<void> {
    const channel = await this.#channel;
    if (channel === undefined || this.#isTerminated) return;
    const frame = agentEventFrame(event);
    if (isTerminal(event)) {
      this.#isTerminated = true;
      this.#stopQuestions();
      this.#stopTracking();
      await channel.end(frame);
      return;
    }
    await channel.send(frame);
  }

  /** Queues a `user_question` behind everything delivered so far; dropped once the stream is over. */
  #deliverQuestion(question: UserQuestion): void {
    if (this.#isTerminated) return;
    const frame = userQuestionFrame(question);
    void this.#channel.then((channel) => {
      if (channel !== undefined && !this.#isTerminated) void channel.send(frame);
    });
  }

  #endRemoved(channel: SseChannel, requestId: string, text: string): void {
    if (!channel.isOpen) return;
    void channel.end(sseFrame("error", { error: text }));
    this.#options.onClientGone(requestId, PRINCIPAL_REVOKED_REASON);
  }

  #stopTracking(): void {
    const untrack = this.#untrackOwner;
    this.#untrackOwner = undefined;
    untrack?.();
  }

  #stopQuestions(): void {
    const remove = this.#removeRecipient;
    this.#removeRecipient = undefined;
    remove?.();
  }
}
