// ABOUTME: The TurnSink of a WS `send` (ws.md §5): `started`, every agent event in order, one terminal event, all
// ABOUTME: as `run` events of this connection only; each write waits for the socket to drain (backpressure).
import { isTerminal, type AgentEvent } from "../agent/agent-events.js";
import { agentEventData, userQuestionData } from "../conversation/agent-event-data.js";
import type { TurnSink } from "../conversation/conversation-service.js";
import type { UserQuestion } from "../store/question-repository.js";

/** What a run needs of its connection. */
export interface RunOutlet {
  /** Resolves true once the socket is under its buffer limit, false when the connection is (being) closed. */
  waitWritable(): Promise<boolean>;
  writeEvent(event: string, payload: Record<string, unknown>): void;
  runEnded(run: WsRun): void;
}

/**
 * Created before the turn is dispatched (as the pipeline's sink), started once the `res` was written. Deliveries
 * before `start` wait for it; after the connection closed they resolve at once (the pipeline keeps persisting).
 */
export class WsRun implements TurnSink {
  readonly agentId: string;
  requestId = "";
  #outlet: RunOutlet;
  #ready: Promise<boolean>;
  #resolveReady!: (ok: boolean) => void;
  #tail: Promise<void> = Promise.resolve();
  #isTerminated = false;

  constructor(outlet: RunOutlet, agentId: string) {
    this.#outlet = outlet;
    this.agentId = agentId;
    this.#ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  get isTerminated(): boolean {
    return this.#isTerminated;
  }

  /** Writes `started` (right after the accepted `res`) and lets queued deliveries through. */
  start(started: { requestId: string; messageId: string; threadId: string }): void {
    this.requestId = started.requestId;
    this.#outlet.writeEvent("run", {
      request_id: started.requestId,
      kind: "started",
      data: { message_id: started.messageId, request_id: started.requestId, thread_id: started.threadId },
    });
    this.#resolveReady(true);
  }

  /** The turn was not started (duplicate or dispatch failure), or its connection is gone: deliveries return at once. */
  discard(): void {
    this.#isTerminated = true;
    this.#resolveReady(false);
  }

  deliver(event: AgentEvent): Promise<void> {
    return this.#enqueue(event.kind, agentEventData(event), isTerminal(event));
  }

  /** An `ask_user` question of this run's agent, written in order behind the run's events. */
  deliverQuestion(question: UserQuestion): void {
    void this.#enqueue("user_question", userQuestionData(question), false);
  }

  /** The owner was revoked or deleted: the terminal `error` with `text` after everything queued. */
  endWithError(text: string): Promise<void> {
    return this.#enqueue("error", { error: text }, true);
  }

  #enqueue(kind: string, data: Record<string, unknown>, isTerminalKind: boolean): Promise<void> {
    const next = this.#tail.then(async () => {
      if (!(await this.#ready) || this.#isTerminated) return;
      if (!(await this.#outlet.waitWritable()) || this.#isTerminated) return;
      this.#outlet.writeEvent("run", { request_id: this.requestId, kind, data });
      if (isTerminalKind) {
        this.#isTerminated = true;
        this.#outlet.runEnded(this);
      }
    });
    this.#tail = next;
    return next;
  }
}
