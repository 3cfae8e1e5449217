// ABOUTME: Tests the ask_user question router against a real store and hub: fan-out, the answer checks in order
// ABOUTME: (failed checks leave it pending), timeout, abort, shutdown, zero recipients and the pending listing.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { HubSubscription } from "../../src/conversation/event-hub.js";
import type { UserQuestion } from "../../src/store/question-repository.js";
import { normalizeQuestionTimeout, type AskInput } from "../../src/conversation/question-router.js";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { createManualClock, openTempDatabase, type TempDatabase } from "../store/temp-database.js";
import { buildDomain, describeItem, until, type Domain } from "./conversation-harness.js";

const T0 = "2025-03-01T10:00:00.000Z";

let temp: TempDatabase;
let domain: Domain;
let watcher: HubSubscription | undefined;

beforeEach(async () => {
  temp = await openTempDatabase();
  domain = buildDomain(temp.store, createManualClock(T0));
});

afterEach(async () => {
  vi.useRealTimers();
  watcher?.close();
  watcher = undefined;
  await domain.questions.shutdown();
  domain.close();
  await temp.cleanup();
});

function watch(agentId = "agent-a"): HubSubscription {
  watcher = domain.hub.subscribe(agentId, { maxQueue: 100 });
  return watcher;
}

const base: AskInput = {
  agentId: "agent-a",
  question: "Which one?",
  options: [{ label: "A", description: "first" }, { label: "B" }, { label: "C", description: "" }],
  multiSelect: false,
  header: "Pick",
  timeoutSeconds: 60,
};

/** Asks and waits until the question is pending; returns it and the waiting call. */
async function ask(input: Partial<AskInput> = {}) {
  const outcome = domain.questions.ask({ ...base, ...input });
  outcome.catch(() => {});
  let question: UserQuestion | undefined;
  await until(async () => {
    [question] = await domain.questions.listPending(input.agentId ?? "agent-a");
    return question !== undefined;
  }, "pending question");
  return { question: question as UserQuestion, outcome };
}

async function errorOf(promise: Promise<unknown>): Promise<{ code: string; message: string } | undefined> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) return undefined;
  expect(isGatewayError(err)).toBe(true);
  return { code: (err as { code: string }).code, message: (err as Error).message };
}

async function status(questionId: string): Promise<string | undefined> {
  const row = await temp.store.db.selectFrom("user_questions").select("status").where("question_id", "=", questionId).executeTakeFirst();
  return row?.status;
}

describe("ask", () => {
  it("fails at once with zero recipients and stores nothing", async () => {
    expect(await errorOf(domain.questions.ask(base))).toEqual({
      code: "FAILED_PRECONDITION",
      message: "failed to send question: no connected clients for agent agent-a",
    });
    expect(await temp.store.db.selectFrom("user_questions").selectAll().execute()).toEqual([]);
  });

  it("publishes the question to the agent's hub topic and stores it pending", async () => {
    const sub = watch();
    const { question } = await ask();
    expect(question).toMatchObject({
      agentId: "agent-a",
      question: "Which one?",
      options: [{ label: "A", description: "first" }, { label: "B" }, { label: "C" }],
      multiSelect: false,
      header: "Pick",
      timeoutSeconds: 60,
      status: "pending",
      createdAt: T0,
      expiresAt: "2025-03-01T10:01:00.000Z",
    });
    const first = await sub[Symbol.asyncIterator]().next();
    expect(first.value).toMatchObject({ kind: "question", conversationKey: "agent-a", question: { questionId: question.questionId } });
  });

  it("counts and delivers to registered send-stream recipients", async () => {
    const delivered: UserQuestion[] = [];
    const remove = domain.questions.addRecipient("agent-a", { deliverQuestion: (q) => delivered.push(q) });
    expect(domain.questions.recipientCount("agent-a")).toBe(1);
    const { question } = await ask();
    expect(delivered.map((q) => q.questionId)).toEqual([question.questionId]);
    remove();
    expect(domain.questions.recipientCount("agent-a")).toBe(0);
  });

  it("validates the question in spec order", async () => {
    watch();
    expect(await errorOf(domain.questions.ask({ ...base, question: "" }))).toEqual({ code: "INVALID_ARGUMENT", message: "question is required" });
    expect(await errorOf(domain.questions.ask({ ...base, options: [] }))).toEqual({
      code: "INVALID_ARGUMENT",
      message: "at least one option is required",
    });
    expect(await errorOf(domain.questions.ask({ ...base, options: [{ label: "" }] }))).toEqual({
      code: "INVALID_ARGUMENT",
      message: "option label is required",
    });
    expect(await errorOf(domain.questions.ask({ ...base, options: [{ label: "x" }, { label: "x" }] }))).toEqual({
      code: "INVALID_ARGUMENT",
      message: 'duplicate option label: "x"',
    });
  });

  it("normalises timeout_seconds: ≤ 0 or absent is 60, above 300 is 300", () => {
    expect(normalizeQuestionTimeout(undefined)).toBe(60);
    expect(normalizeQuestionTimeout(0)).toBe(60);
    expect(normalizeQuestionTimeout(-5)).toBe(60);
    expect(normalizeQuestionTimeout(30)).toBe(30);
    expect(normalizeQuestionTimeout(301)).toBe(300);
  });
});

describe("answer", () => {
  it("delivers a valid answer to the waiting call, marks the row answered and audits it", async () => {
    watch();
    const { question, outcome } = await ask();
    const answered = await domain.questions.answer({ agentId: "agent-a", questionId: question.questionId, selected: ["B"], actor: "client-1" });
    expect(answered).toMatchObject({ status: "answered", answeredBy: "client-1", answer: { selected: ["B"] } });
    expect(await outcome).toEqual({ answered: true, selected: ["B"] });
    const row = await temp.store.db.selectFrom("user_questions").selectAll().executeTakeFirstOrThrow();
    expect(JSON.parse(row.answer_json ?? "")).toEqual({ selected: ["B"] });
    const audit = await temp.store.db.selectFrom("audit_log").selectAll().execute();
    expect(audit.map((a) => [a.actor_principal_id, a.action, a.target_type, a.target_id])).toEqual([
      ["client-1", "answer_question", "user_question", question.questionId],
    ]);
    expect(JSON.parse(audit[0]?.detail_json ?? "")).toEqual({ agent_id: "agent-a", question_id: question.questionId });
    expect(await errorOf(domain.questions.answer({ agentId: "agent-a", questionId: question.questionId, selected: ["A"], actor: "x" }))).toEqual({
      code: "NOT_FOUND",
      message: `no pending question with ID ${question.questionId}`,
    });
  });

  it("returns custom text when given, with selected always present", async () => {
    watch();
    const { question, outcome } = await ask();
    await domain.questions.answer({ agentId: "agent-a", questionId: question.questionId, selected: [], customText: "neither", actor: "c" });
    expect(await outcome).toEqual({ answered: true, selected: [], customText: "neither" });
  });

  it("leaves the question pending when the agent id does not match", async () => {
    watch();
    const { question, outcome } = await ask();
    expect(await errorOf(domain.questions.answer({ agentId: "agent-b", questionId: question.questionId, selected: ["A"], actor: "c" }))).toEqual({
      code: "NOT_FOUND",
      message: 'answer agent_id "agent-b" does not match question agent_id "agent-a"',
    });
    expect(await status(question.questionId)).toBe("pending");
    await domain.questions.answer({ agentId: "agent-a", questionId: question.questionId, selected: ["A"], actor: "c" });
    expect(await outcome).toEqual({ answered: true, selected: ["A"] });
  });

  it("runs the checks in order and leaves the question pending after each failure", async () => {
    watch();
    const { question } = await ask();
    const id = question.questionId;
    const tries: Array<[Parameters<Domain["questions"]["answer"]>[0], { code: string; message: string }]> = [
      [{ agentId: "agent-a", questionId: "missing", selected: [], actor: "c" }, { code: "NOT_FOUND", message: "no pending question with ID missing" }],
      [
        { agentId: "agent-b", questionId: id, selected: [], actor: "c" },
        { code: "NOT_FOUND", message: 'answer agent_id "agent-b" does not match question agent_id "agent-a"' },
      ],
      [
        { agentId: "agent-a", questionId: id, selected: [], customText: "", actor: "c" },
        { code: "INVALID_ARGUMENT", message: "at least one selection or custom_text is required" },
      ],
      [{ agentId: "agent-a", questionId: id, selected: ["A", "Z"], actor: "c" }, { code: "INVALID_ARGUMENT", message: 'unknown option label: "Z"' }],
      [
        { agentId: "agent-a", questionId: id, selected: ["A", "B"], actor: "c" },
        { code: "INVALID_ARGUMENT", message: "multiple selections not allowed for this question" },
      ],
    ];
    for (const [input, expected] of tries) {
      expect(await errorOf(domain.questions.answer(input))).toEqual(expected);
      expect(await status(id)).toBe("pending");
    }
    expect(await temp.store.db.selectFrom("audit_log").selectAll().execute()).toEqual([]);
  });

  it("accepts several labels when multi_select is set", async () => {
    watch();
    const { question, outcome } = await ask({ multiSelect: true });
    await domain.questions.answer({ agentId: "agent-a", questionId: question.questionId, selected: ["A", "C"], actor: "c" });
    expect(await outcome).toEqual({ answered: true, selected: ["A", "C"] });
  });
});

describe("ending without an answer", () => {
  it("expires at the deadline: the call returns timeout and the row is expired", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    watch();
    const { question, outcome } = await ask({ timeoutSeconds: 2 });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(await status(question.questionId)).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toEqual({ answered: false, reason: "timeout" });
    expect(await status(question.questionId)).toBe("expired");
    expect(await errorOf(domain.questions.answer({ agentId: "agent-a", questionId: question.questionId, selected: ["A"], actor: "c" }))).toEqual({
      code: "NOT_FOUND",
      message: `no pending question with ID ${question.questionId}`,
    });
  });

  it("withdraws the question when the caller aborts", async () => {
    watch();
    const controller = new AbortController();
    const { question, outcome } = await ask({ signal: controller.signal });
    controller.abort();
    expect(await errorOf(outcome)).toEqual({ code: "CANCELED", message: "question withdrawn" });
    expect(await status(question.questionId)).toBe("canceled");
  });

  it("ends waiting calls with no_response at shutdown", async () => {
    watch();
    const { question, outcome } = await ask();
    await domain.questions.shutdown();
    expect(await outcome).toEqual({ answered: false, reason: "no_response" });
    expect(await status(question.questionId)).toBe("canceled");
  });

  it("cancels pending rows at startup", async () => {
    watch();
    await ask();
    expect(await domain.questions.cancelAllPending()).toBe(1);
    expect(await domain.questions.listPending()).toEqual([]);
  });

  it("expires overdue rows in the backstop sweep", async () => {
    const clock = createManualClock(T0);
    const local = buildDomain(temp.store, clock);
    const localWatcher = local.hub.subscribe("agent-a", { maxQueue: 10 });
    const outcome = local.questions.ask({ ...base, timeoutSeconds: 300 });
    await until(async () => (await local.questions.listPending()).length === 1, "pending");
    clock.set("2025-03-01T10:05:00.000Z");
    await local.questions.sweepExpired();
    expect(await outcome).toEqual({ answered: false, reason: "timeout" });
    localWatcher.close();
    local.close();
  });
});

describe("late subscribers", () => {
  it("see a pending question when they open an event stream", async () => {
    watch();
    const { question } = await ask();
    const stream = domain.openStream("agent-a");
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    stream.close();
    expect(describeItem(first.value as never)).toBe("user_question:Which one?");
    expect(first.value).toMatchObject({ timestamp: question.createdAt, payload: { question: { questionId: question.questionId } } });
  });
});
