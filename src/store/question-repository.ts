// ABOUTME: The durable record of `ask_user` questions (store.md §2 user_questions): insert, answer, expire, cancel.
// ABOUTME: Every transition out of `pending` is one guarded UPDATE (… WHERE status = 'pending'), so it happens once.
import { sql, type Selectable } from "kysely";
import type { UserQuestionRow, UserQuestionStatus } from "./schema.js";
import { SYSTEM_ACTOR } from "./audit-repository.js";
import type { StoreExecutor } from "./transaction.js";

/** One option of a question; `description` is absent when unset. */
export interface QuestionOption {
  label: string;
  description?: string;
}

/** The answer stored with an answered question. `customText` is absent when none was given. */
export interface QuestionAnswer {
  selected: string[];
  customText?: string;
}

/** A stored question. */
export interface UserQuestion {
  questionId: string;
  /** The asking agent's connection agent_id. */
  agentId: string;
  question: string;
  options: QuestionOption[];
  multiSelect: boolean;
  header: string | undefined;
  timeoutSeconds: number;
  status: UserQuestionStatus;
  createdAt: string;
  expiresAt: string;
  answeredAt: string | null;
  /** Actor string; `system` for expiry and cancellation. */
  answeredBy: string | null;
  answer: QuestionAnswer | undefined;
}

export type NewUserQuestion = Pick<
  UserQuestion,
  "questionId" | "agentId" | "question" | "options" | "multiSelect" | "header" | "timeoutSeconds" | "createdAt" | "expiresAt"
>;

export interface QuestionRepository {
  insert(input: NewUserQuestion): Promise<UserQuestion>;
  findById(questionId: string): Promise<UserQuestion | undefined>;
  /** Marks a pending question `answered`; the row when it changed, `undefined` when it was not pending. */
  markAnswered(questionId: string, answer: QuestionAnswer, answeredBy: string, now: string): Promise<UserQuestion | undefined>;
  /** Marks a pending question `expired` or `canceled` (by `system`); `undefined` when it was not pending. */
  close(questionId: string, status: "expired" | "canceled", now: string): Promise<UserQuestion | undefined>;
  /** Cancels every pending question (gateway start, shutdown); returns how many changed. */
  cancelAllPending(now: string): Promise<number>;
  /** Pending questions, optionally of one agent, oldest first. */
  listPending(agentId?: string): Promise<UserQuestion[]>;
  /** Pending questions with expires_at ≤ now (the 30 s backstop sweep). */
  listExpiredPending(now: string): Promise<UserQuestion[]>;
}


function encodeOptions(options: QuestionOption[]): string {
  return JSON.stringify(
    options.map((o) => (o.description === undefined ? { label: o.label } : { label: o.label, description: o.description })),
  );
}

function encodeAnswer(answer: QuestionAnswer): string {
  return JSON.stringify(
    answer.customText === undefined ? { selected: answer.selected } : { selected: answer.selected, custom_text: answer.customText },
  );
}

function decodeAnswer(text: string | null): QuestionAnswer | undefined {
  if (text === null) return undefined;
  const raw = JSON.parse(text) as { selected?: string[]; custom_text?: string };
  const answer: QuestionAnswer = { selected: raw.selected ?? [] };
  if (raw.custom_text !== undefined) answer.customText = raw.custom_text;
  return answer;
}

function toQuestion(row: Selectable<UserQuestionRow>): UserQuestion {
  return {
    questionId: row.question_id,
    agentId: row.agent_id,
    question: row.question,
    options: JSON.parse(row.options_json) as QuestionOption[],
    multiSelect: row.multi_select === 1,
    header: row.header ?? undefined,
    timeoutSeconds: row.timeout_seconds,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    answeredAt: row.answered_at,
    answeredBy: row.answered_by,
    answer: decodeAnswer(row.answer_json),
  };
}

/**
 * Creates the question repository over `db` (the database or a transaction). Methods throw only driver errors,
 * which callers report as INTERNAL.
 */
export function createQuestionRepository(db: StoreExecutor): QuestionRepository {
  const settle = (questionId: string, values: { status: UserQuestionStatus; answered_at: string; answered_by: string; answer_json?: string }) =>
    db
      .updateTable("user_questions")
      .set(values)
      .where("question_id", "=", questionId)
      .where("status", "=", "pending")
      .returningAll()
      .executeTakeFirst()
      .then((row) => (row === undefined ? undefined : toQuestion(row)));

  return {
    async insert(input) {
      const row = await db
        .insertInto("user_questions")
        .values({
          question_id: input.questionId,
          agent_id: input.agentId,
          question: input.question,
          options_json: encodeOptions(input.options),
          multi_select: input.multiSelect ? 1 : 0,
          header: input.header ?? null,
          timeout_seconds: input.timeoutSeconds,
          status: "pending",
          created_at: input.createdAt,
          expires_at: input.expiresAt,
          answered_at: null,
          answered_by: null,
          answer_json: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toQuestion(row);
    },

    async findById(questionId) {
      const row = await db.selectFrom("user_questions").selectAll().where("question_id", "=", questionId).executeTakeFirst();
      return row === undefined ? undefined : toQuestion(row);
    },

    markAnswered: (questionId, answer, answeredBy, now) =>
      settle(questionId, { status: "answered", answered_at: now, answered_by: answeredBy, answer_json: encodeAnswer(answer) }),

    close: (questionId, status, now) => settle(questionId, { status, answered_at: now, answered_by: SYSTEM_ACTOR }),

    async cancelAllPending(now) {
      const result = await db
        .updateTable("user_questions")
        .set({ status: "canceled", answered_at: now, answered_by: SYSTEM_ACTOR })
        .where("status", "=", "pending")
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async listPending(agentId) {
      let query = db.selectFrom("user_questions").selectAll().where("status", "=", "pending");
      if (agentId !== undefined) query = query.where("agent_id", "=", agentId);
      const rows = await query.orderBy("created_at", "asc").orderBy(sql`rowid`, "asc").execute();
      return rows.map(toQuestion);
    },

    async listExpiredPending(now) {
      const rows = await db
        .selectFrom("user_questions")
        .selectAll()
        .where("status", "=", "pending")
        .where("expires_at", "<=", now)
        .orderBy("expires_at", "asc")
        .orderBy(sql`rowid`, "asc")
        .execute();
      return rows.map(toQuestion);
    },
  };
}
