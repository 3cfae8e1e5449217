// ABOUTME: The `ask_user` question router (packs-mcp.md §5.5): fans a question out, waits for one valid answer.
// ABOUTME: Rows back the listings and checks; failed checks leave a question pending; timeout, abort, shutdown end it.
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { createAuditRepository } from "../store/audit-repository.js";
import { inTransaction, type StoreExecutor } from "../store/transaction.js";
import type { EventHub } from "./event-hub.js";
import { createQuestionRepository, type QuestionAnswer, type QuestionOption, type UserQuestion } from "../store/question-repository.js";

export const DEFAULT_QUESTION_TIMEOUT_SECONDS = 60;
export const MAX_QUESTION_TIMEOUT_SECONDS = 300;
const DEFAULT_SWEEP_MS = 30_000;

/**
 * A recipient outside the hub: an HTTP SSE send stream with a request in flight to the agent. The HTTP edge
 * registers one per stream (`addRecipient`) and removes it when the stream ends.
 */
export interface QuestionRecipient {
  deliverQuestion(question: UserQuestion): void;
}

export interface AskInput {
  agentId: string;
  question: string;
  options: QuestionOption[];
  multiSelect: boolean;
  header?: string | undefined;
  /** ≤ 0 or absent means 60; above 300 is capped at 300. */
  timeoutSeconds?: number | undefined;
  /** The caller went away (agent disconnect, MCP abort): the question is withdrawn. */
  signal?: AbortSignal | undefined;
}

export type AskOutcome =
  | { answered: true; selected: string[]; customText?: string }
  | { answered: false; reason: "timeout" | "no_response" };

export interface QuestionAnswerInput {
  agentId: string;
  questionId: string;
  selected: string[];
  customText?: string | undefined;
  /** The actor string of the answering caller. */
  actor: string;
  /** Extra audit detail keys (web admin adds `username`). */
  auditDetail?: Record<string, unknown>;
}

export interface QuestionRouterDeps {
  db: StoreExecutor;
  hub: EventHub;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  sweepIntervalMs?: number;
}

interface Waiter {
  settle: (outcome: AskOutcome | GatewayError) => void;
}

/** `timeout_seconds` of packs-mcp.md §5.5: ≤ 0 or absent means 60, above 300 means 300. */
export function normalizeQuestionTimeout(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return DEFAULT_QUESTION_TIMEOUT_SECONDS;
  return Math.min(Math.max(1, Math.floor(seconds)), MAX_QUESTION_TIMEOUT_SECONDS);
}

/** The `ask_user` input checks, in order. Throws INVALID_ARGUMENT with the spec text. */
export function validateQuestion(question: string, options: QuestionOption[]): void {
  if (question === "") throw new GatewayError("INVALID_ARGUMENT", "question is required");
  if (options.length === 0) throw new GatewayError("INVALID_ARGUMENT", "at least one option is required");
  const seen = new Set<string>();
  for (const option of options) {
    if (option.label === "") throw new GatewayError("INVALID_ARGUMENT", "option label is required");
    if (seen.has(option.label)) throw new GatewayError("INVALID_ARGUMENT", `duplicate option label: ${JSON.stringify(option.label)}`);
    seen.add(option.label);
  }
}

/** Holds the waiting `ask_user` calls. One instance per gateway. */
export class QuestionRouter {
  #deps: QuestionRouterDeps;
  #recipients = new Map<string, Set<QuestionRecipient>>();
  #waiters = new Map<string, Waiter>();
  #allAgentWatchers = 0;
  #sweep: NodeJS.Timeout | undefined;
  readonly counters = { asked: 0, answered: 0, expired: 0, canceled: 0 };

  constructor(deps: QuestionRouterDeps) {
    this.#deps = deps;
  }

  /** Registers a non-hub recipient for the agent's questions. Returns the function that removes it. */
  addRecipient(agentId: string, recipient: QuestionRecipient): () => void {
    let set = this.#recipients.get(agentId);
    if (!set) {
      set = new Set();
      this.#recipients.set(agentId, set);
    }
    set.add(recipient);
    return () => {
      const current = this.#recipients.get(agentId);
      current?.delete(recipient);
      if (current?.size === 0) this.#recipients.delete(agentId);
    };
  }

  /**
   * Registers a watcher of every agent's questions that reads them from the hub (a WS `questions` subscription,
   * ws.md §6.3): it counts as a recipient of each agent. Returns the function that removes it.
   */
  addAllAgentsWatcher(): () => void {
    this.#allAgentWatchers += 1;
    let isRemoved = false;
    return () => {
      if (isRemoved) return;
      isRemoved = true;
      this.#allAgentWatchers -= 1;
    };
  }

  /** Who would receive a question of this agent now: hub subscribers, registered recipients and all-agent watchers. */
  recipientCount(agentId: string): number {
    return this.#deps.hub.subscriberCount(agentId) + (this.#recipients.get(agentId)?.size ?? 0) + this.#allAgentWatchers;
  }

  /**
   * Raises a question and waits for the first of: a valid answer, the deadline (`timeout`), shutdown
   * (`no_response`). Throws INVALID_ARGUMENT for a malformed question, FAILED_PRECONDITION `failed to send
   * question: no connected clients for agent <id>` with zero recipients (nothing stored), CANCELED `question
   * withdrawn` when `signal` aborts (the row becomes `canceled`), and driver errors from the insert.
   */
  async ask(input: AskInput): Promise<AskOutcome> {
    validateQuestion(input.question, input.options);
    if (input.signal?.aborted) throw new GatewayError("CANCELED", "question withdrawn");
    if (this.recipientCount(input.agentId) === 0) {
      throw new GatewayError("FAILED_PRECONDITION", `failed to send question: no connected clients for agent ${input.agentId}`);
    }
    const timeoutSeconds = normalizeQuestionTimeout(input.timeoutSeconds);
    const now = this.#deps.clock.now();
    const question = await createQuestionRepository(this.#deps.db).insert({
      questionId: this.#deps.ids.uuid(),
      agentId: input.agentId,
      question: input.question,
      options: input.options.map((o) =>
        o.description === undefined || o.description === "" ? { label: o.label } : { label: o.label, description: o.description },
      ),
      multiSelect: input.multiSelect,
      header: input.header === "" ? undefined : input.header,
      timeoutSeconds,
      createdAt: isoTimestamp(now),
      expiresAt: isoTimestamp(new Date(now.getTime() + timeoutSeconds * 1000)),
    });
    this.counters.asked += 1;
    const outcome = new Promise<AskOutcome>((resolve, reject) => {
      const onAbort = () => {
        this.#close(question.questionId, "canceled").catch((cause: unknown) =>
          this.#deps.log.error("withdrawing question failed", { question_id: question.questionId, cause }),
        );
      };
      const timer = setTimeout(() => {
        this.#close(question.questionId, "expired").catch((cause: unknown) =>
          this.#deps.log.error("expiring question failed", { question_id: question.questionId, cause }),
        );
      }, timeoutSeconds * 1000);
      timer.unref();
      input.signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.set(question.questionId, {
        settle: (result) => {
          clearTimeout(timer);
          input.signal?.removeEventListener("abort", onAbort);
          if (result instanceof GatewayError) reject(result);
          else resolve(result);
        },
      });
      // The caller may have gone away while the row was being written.
      if (input.signal?.aborted) onAbort();
    });
    if (input.signal?.aborted) return outcome;
    this.#deps.hub.publish({ kind: "question", conversationKey: question.agentId, question, at: question.createdAt });
    for (const recipient of this.#recipients.get(question.agentId) ?? []) {
      try {
        recipient.deliverQuestion(question);
      } catch (err) {
        this.#deps.log.warn("delivering question failed", { question_id: question.questionId, cause: err });
      }
    }
    return outcome;
  }

  /**
   * Answers a pending question after the checks of packs-mcp.md §5.5, in order; a failed check changes nothing.
   * Throws NOT_FOUND `no pending question with ID <id>` (unknown, not pending, or another answer won) and
   * NOT_FOUND `answer agent_id "<given>" does not match question agent_id "<asker>"` (the HTTP edge shows both as
   * `question not found or already answered`), INVALID_ARGUMENT `at least one selection or custom_text is
   * required`, `unknown option label: "<label>"`, `multiple selections not allowed for this question`.
   * On success the row is `answered` and audited `answer_question` in one transaction.
   */
  async answer(input: QuestionAnswerInput): Promise<UserQuestion> {
    const notPending = () => new GatewayError("NOT_FOUND", `no pending question with ID ${input.questionId}`);
    const now = isoTimestamp(this.#deps.clock.now());
    const customText = input.customText ?? "";
    const answered = await inTransaction(this.#deps.db, async (trx) => {
      const questions = createQuestionRepository(trx);
      const question = await questions.findById(input.questionId);
      if (question === undefined || question.status !== "pending") throw notPending();
      if (question.agentId !== input.agentId) {
        throw new GatewayError(
          "NOT_FOUND",
          `answer agent_id ${JSON.stringify(input.agentId)} does not match question agent_id ${JSON.stringify(question.agentId)}`,
        );
      }
      if (input.selected.length === 0 && customText === "") {
        throw new GatewayError("INVALID_ARGUMENT", "at least one selection or custom_text is required");
      }
      const labels = new Set(question.options.map((o) => o.label));
      for (const label of input.selected) {
        if (!labels.has(label)) throw new GatewayError("INVALID_ARGUMENT", `unknown option label: ${JSON.stringify(label)}`);
      }
      if (!question.multiSelect && input.selected.length > 1) {
        throw new GatewayError("INVALID_ARGUMENT", "multiple selections not allowed for this question");
      }
      const answer: QuestionAnswer = customText === "" ? { selected: [...input.selected] } : { selected: [...input.selected], customText };
      const row = await questions.markAnswered(question.questionId, answer, input.actor, now);
      if (row === undefined) throw notPending();
      await createAuditRepository(trx).record({
        actor: input.actor,
        action: "answer_question",
        targetType: "user_question",
        targetId: row.questionId,
        detail: { ...input.auditDetail, agent_id: row.agentId, question_id: row.questionId },
        now,
      });
      return row;
    });
    this.counters.answered += 1;
    const answer = answered.answer ?? { selected: [] };
    this.#settled(answered, answer.customText === undefined ? { answered: true, selected: answer.selected } : { answered: true, ...answer });
    return answered;
  }

  /** Pending questions, optionally of one agent, oldest first. Throws driver errors. */
  listPending(agentId?: string): Promise<UserQuestion[]> {
    return createQuestionRepository(this.#deps.db).listPending(agentId);
  }

  /** Gateway start (store.md §9): every pending question becomes `canceled` by `system`. Returns how many. */
  cancelAllPending(): Promise<number> {
    return createQuestionRepository(this.#deps.db).cancelAllPending(isoTimestamp(this.#deps.clock.now()));
  }

  /** Starts the 30 s backstop sweep. */
  start(): void {
    if (this.#sweep) return;
    this.#sweep = setInterval(() => {
      this.sweepExpired().catch((cause: unknown) => this.#deps.log.error("question sweep failed", { cause }));
    }, this.#deps.sweepIntervalMs ?? DEFAULT_SWEEP_MS);
    this.#sweep.unref();
  }

  /** Expires every pending question past its deadline. Throws driver errors. */
  async sweepExpired(): Promise<void> {
    const due = await createQuestionRepository(this.#deps.db).listExpiredPending(isoTimestamp(this.#deps.clock.now()));
    for (const question of due) await this.#close(question.questionId, "expired");
  }

  /**
   * Shutdown: stops the sweep, cancels every pending question and ends each waiting call with `no_response`.
   * Throws driver errors (the waiting calls are ended regardless).
   */
  async shutdown(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
    const waiting = [...this.#waiters.entries()];
    this.#waiters.clear();
    for (const [, waiter] of waiting) waiter.settle({ answered: false, reason: "no_response" });
    const questions = createQuestionRepository(this.#deps.db);
    const now = isoTimestamp(this.#deps.clock.now());
    for (const [questionId] of waiting) {
      const row = await questions.close(questionId, "canceled", now);
      if (row) this.#publishResolved(row);
    }
  }

  async #close(questionId: string, status: "expired" | "canceled"): Promise<void> {
    const row = await createQuestionRepository(this.#deps.db).close(questionId, status, isoTimestamp(this.#deps.clock.now()));
    if (row === undefined) return;
    if (status === "expired") {
      this.counters.expired += 1;
      this.#settled(row, { answered: false, reason: "timeout" });
    } else {
      this.counters.canceled += 1;
      this.#settled(row, new GatewayError("CANCELED", "question withdrawn"));
    }
  }

  #settled(row: UserQuestion, outcome: AskOutcome | GatewayError): void {
    const waiter = this.#waiters.get(row.questionId);
    this.#waiters.delete(row.questionId);
    waiter?.settle(outcome);
    this.#publishResolved(row);
  }

  #publishResolved(row: UserQuestion): void {
    this.#deps.hub.publish({ kind: "question_resolved", conversationKey: row.agentId, question: row, at: row.answeredAt ?? row.createdAt });
  }
}

/** Builds the question router; call `cancelAllPending()` at startup, `start()` after it, `shutdown()` at stop. */
export function createQuestionRouter(deps: QuestionRouterDeps): QuestionRouter {
  return new QuestionRouter(deps);
}
