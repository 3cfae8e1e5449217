// ABOUTME: `ask_user` questions over HTTP: delivery to open send streams as SSE `user_question`, POST
// ABOUTME: /api/questions/answer checks in order (failed checks leave the question pending), and the pending listing.
import { afterEach, describe, expect, it } from "vitest";
import type { AskInput, AskOutcome } from "../../src/conversation/question-router.js";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import type { FakeAgent } from "./support/fake-agent-io.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";
import { openSse, type SseResponse } from "./support/sse-client.js";

let h: HttpHarness | undefined;
let url = "";
const streams: SseResponse[] = [];

afterEach(async () => {
  for (const sse of streams.splice(0)) sse.destroy();
  await h?.close();
  h = undefined;
});

async function setup(agentIds: string[] = ["a1"]) {
  h = await createHttpHarness();
  const agents = new Map<string, FakeAgent>();
  for (const agentId of agentIds) agents.set(agentId, await h.connectAgent({ agentId }));
  url = await h.listen();
  return { harness: h, agents };
}

/** Opens a send stream to the agent; resolves once the agent holds the request (the stream is in flight). */
async function openTurn(agent: FakeAgent, agentId: string) {
  const sse = await openSse(url, "/api/send", { body: { agent_id: agentId, content: "go", sender: "tester" } });
  streams.push(sse);
  const sent = await agent.nextSendMessage();
  return { sse, requestId: sent.requestId };
}

type Question = Omit<AskInput, "agentId">;
const YES_NO: Question = {
  question: "Proceed?",
  options: [{ label: "Yes", description: "go ahead" }, { label: "No" }],
  multiSelect: false,
};

/** Asks as the agent's `ask_user` would, with one send stream open; returns the outcome and the question id. */
async function ask(harness: HttpHarness, sse: SseResponse, agentId: string, question: Question = YES_NO) {
  const seen = sse.events().filter((e) => e.event === "user_question").length;
  const outcome: Promise<AskOutcome> = harness.questions.ask({ agentId, ...question });
  outcome.catch(() => {});
  await sse.waitFor(() => sse.events().filter((e) => e.event === "user_question").length > seen);
  const event = sse.events().filter((e) => e.event === "user_question")[seen];
  return { outcome, questionId: (event?.data as { question_id: string }).question_id, raw: event?.raw ?? "" };
}

function answer(harness: HttpHarness, payload: unknown) {
  return harness.app.inject({
    method: "POST",
    url: "/api/questions/answer",
    payload: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
}

async function isPending(harness: HttpHarness, questionId: string): Promise<boolean> {
  return (await harness.questions.listPending()).some((q) => q.questionId === questionId);
}

describe("user_question on send streams", () => {
  it("reaches the open stream of the asking agent after started, with sorted keys, and is answerable", async () => {
    const { harness, agents } = await setup();
    const agent = agents.get("a1") as FakeAgent;
    const { sse, requestId } = await openTurn(agent, "a1");
    await sse.waitFor((frames) => frames.some((f) => f.event === "started"));

    const { outcome, questionId, raw } = await ask(harness, sse, "a1", {
      question: "Pick",
      options: [{ label: "A", description: "first" }, { label: "B" }],
      multiSelect: true,
      header: "Choice",
      timeoutSeconds: 120,
    });

    expect(raw).toBe(
      `{"agent_id":"a1","header":"Choice","multi_select":true,"options":[{"description":"first","label":"A"},` +
        `{"description":"","label":"B"}],"question":"Pick","question_id":"${questionId}","timeout_seconds":120}`,
    );
    expect(sse.events().map((e) => e.event)).toEqual(["started", "user_question"]);
    const res = await answer(harness, { agent_id: "a1", question_id: questionId, selected: ["A", "B"], custom_text: "both" });
    expect([res.statusCode, res.body]).toEqual([200, '{"success":true}\n']);
    await expect(outcome).resolves.toEqual({ answered: true, selected: ["A", "B"], customText: "both" });

    agent.respond(requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    const body = await sse.ended;
    expect(body.split("\n\n").slice(0, -1).map((f) => f.split("\n")[0])).toEqual([
      "event: started",
      "event: user_question",
      "event: done",
    ]);
  });

  it("sends `header` and option `description` as empty strings when unset", async () => {
    const { harness, agents } = await setup();
    const { sse } = await openTurn(agents.get("a1") as FakeAgent, "a1");
    const { questionId, raw } = await ask(harness, sse, "a1", { question: "Q", options: [{ label: "only" }], multiSelect: false });
    expect(raw).toBe(
      `{"agent_id":"a1","header":"","multi_select":false,"options":[{"description":"","label":"only"}],` +
        `"question":"Q","question_id":"${questionId}","timeout_seconds":60}`,
    );
  });

  it("goes to every stream in flight to the asking agent and to none of another agent's", async () => {
    const { harness, agents } = await setup(["a1", "a2"]);
    const first = await openTurn(agents.get("a1") as FakeAgent, "a1");
    const second = await openTurn(agents.get("a1") as FakeAgent, "a1");
    const other = await openTurn(agents.get("a2") as FakeAgent, "a2");
    expect(harness.questions.recipientCount("a1")).toBe(2);

    const { questionId } = await ask(harness, first.sse, "a1");
    await second.sse.waitFor((frames) => frames.some((f) => f.event === "user_question"));

    expect((second.sse.events().find((e) => e.event === "user_question")?.data as { question_id: string }).question_id).toBe(questionId);
    agents.get("a2")?.respond(other.requestId, { kind: "done", fullResponse: "", origin: "agent" });
    await other.sse.ended;
    expect(other.sse.events().map((e) => e.event)).toEqual(["started", "done"]);
  });

  it("stops being a recipient at the terminal event, so a later question finds no client", async () => {
    const { harness, agents } = await setup();
    const agent = agents.get("a1") as FakeAgent;
    const { sse, requestId } = await openTurn(agent, "a1");
    expect(harness.questions.recipientCount("a1")).toBe(1);

    agent.respond(requestId, { kind: "done", fullResponse: "", origin: "agent" });
    await sse.ended;

    expect(harness.questions.recipientCount("a1")).toBe(0);
    const late = harness.questions.ask({ agentId: "a1", ...YES_NO });
    await expect(late).rejects.toSatisfy(
      (err: unknown) =>
        isGatewayError(err, "FAILED_PRECONDITION") && err.message === "failed to send question: no connected clients for agent a1",
    );
  });

  it("stops being a recipient when the client goes away", async () => {
    const { harness, agents } = await setup();
    const { sse } = await openTurn(agents.get("a1") as FakeAgent, "a1");
    await sse.waitFor((frames) => frames.some((f) => f.event === "started"));
    expect(harness.questions.recipientCount("a1")).toBe(1);

    sse.destroy();

    await expect.poll(() => harness.questions.recipientCount("a1")).toBe(0);
  });
});

describe("POST /api/questions/answer", () => {
  it("runs the body checks in order, the selection check before the lookup", async () => {
    const { harness } = await setup([]);
    const cases: Array<[unknown, string]> = [
      ["{", "invalid JSON body"],
      ['"text"', "invalid JSON body"],
      [{ agent_id: "a1", question_id: "q", selected: "Yes" }, "invalid JSON body"],
      [{ agent_id: "a1", question_id: "q", selected: [1] }, "invalid JSON body"],
      [{ agent_id: "a1", question_id: "q", selected: ["Yes"], custom_text: 5 }, "invalid JSON body"],
      [{ question_id: "q", selected: ["Yes"] }, "agent_id is required"],
      [{ agent_id: "a1", selected: ["Yes"] }, "question_id is required"],
      [{ agent_id: "a1", question_id: "unknown" }, "at least one selection or custom_text is required"],
      [{ agent_id: "a1", question_id: "unknown", selected: [], custom_text: "" }, "at least one selection or custom_text is required"],
    ];
    for (const [payload, error] of cases) {
      const res = await answer(harness, payload);
      expect([res.statusCode, res.json()]).toEqual([400, { error }]);
    }
  });

  it("answers 404 for an unknown question, another agent's question, or one already answered; it stays pending", async () => {
    const { harness, agents } = await setup(["a1", "a2"]);
    const { sse } = await openTurn(agents.get("a1") as FakeAgent, "a1");
    const { outcome, questionId } = await ask(harness, sse, "a1");
    const notFound = [404, { error: "question not found or already answered" }];

    const unknown = await answer(harness, { agent_id: "a1", question_id: "no-such-question", selected: ["Yes"] });
    expect([unknown.statusCode, unknown.json()]).toEqual(notFound);
    const otherAgent = await answer(harness, { agent_id: "a2", question_id: questionId, selected: ["Yes"] });
    expect([otherAgent.statusCode, otherAgent.json()]).toEqual(notFound);
    expect(await isPending(harness, questionId)).toBe(true);

    const ok = await answer(harness, { agent_id: "a1", question_id: questionId, selected: ["Yes"] });
    expect(ok.statusCode).toBe(200);
    await expect(outcome).resolves.toEqual({ answered: true, selected: ["Yes"] });
    const again = await answer(harness, { agent_id: "a1", question_id: questionId, selected: ["No"] });
    expect([again.statusCode, again.json()]).toEqual(notFound);
    const audit = await harness.audit("answer_question");
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor).toBe("anonymous");
    expect(JSON.parse(audit[0]?.detailJson ?? "{}")).toEqual({ agent_id: "a1", question_id: questionId });
  });

  it("rejects an unknown label and several labels on a single-select question, leaving it pending", async () => {
    const { harness, agents } = await setup();
    const { sse } = await openTurn(agents.get("a1") as FakeAgent, "a1");
    const { outcome, questionId } = await ask(harness, sse, "a1");

    const unknownLabel = await answer(harness, { agent_id: "a1", question_id: questionId, selected: ["Yes", "Maybe"] });
    expect([unknownLabel.statusCode, unknownLabel.json()]).toEqual([400, { error: 'unknown option label: "Maybe"' }]);
    const multiple = await answer(harness, { agent_id: "a1", question_id: questionId, selected: ["Yes", "No"] });
    expect([multiple.statusCode, multiple.json()]).toEqual([400, { error: "multiple selections not allowed for this question" }]);
    expect(await isPending(harness, questionId)).toBe(true);
    expect(await harness.audit("answer_question")).toEqual([]);

    const customOnly = await answer(harness, { agent_id: "a1", question_id: questionId, custom_text: "later" });
    expect([customOnly.statusCode, customOnly.body]).toEqual([200, '{"success":true}\n']);
    await expect(outcome).resolves.toEqual({ answered: true, selected: [], customText: "later" });
  });

  it("serves only POST", async () => {
    const { harness } = await setup([]);
    const res = await harness.app.inject({ method: "GET", url: "/api/questions/answer" });
    expect([res.statusCode, res.body]).toEqual([405, ""]);
  });
});

describe("GET /api/questions/pending", () => {
  it("lists pending questions oldest first with the spec's keys, optionally for one agent", async () => {
    const { harness, agents } = await setup(["a1", "a2"]);
    const s1 = await openTurn(agents.get("a1") as FakeAgent, "a1");
    const s2 = await openTurn(agents.get("a2") as FakeAgent, "a2");
    const q1 = await ask(harness, s1.sse, "a1");
    const q2 = await ask(harness, s2.sse, "a2", { question: "Q2", options: [{ label: "x" }], multiSelect: true, header: "H", timeoutSeconds: 999 });

    const all = await harness.app.inject({ method: "GET", url: "/api/questions/pending" });
    expect(all.statusCode).toBe(200);
    expect(all.headers["content-type"]).toBe("application/json");
    const body = all.json() as { questions: Array<Record<string, unknown>> };
    expect(body.questions.map((q) => q.question_id)).toEqual([q1.questionId, q2.questionId]);
    expect(Object.keys(body.questions[0] ?? {})).toEqual([
      "agent_id",
      "question_id",
      "question",
      "options",
      "multi_select",
      "header",
      "timeout_seconds",
      "created_at",
      "expires_at",
    ]);
    expect(body.questions[0]).toMatchObject({
      agent_id: "a1",
      question: "Proceed?",
      options: [
        { label: "Yes", description: "go ahead" },
        { label: "No", description: "" },
      ],
      multi_select: false,
      header: "",
      timeout_seconds: 60,
    });
    expect(Object.keys((body.questions[0]?.options as object[])[0] ?? {})).toEqual(["label", "description"]);
    expect(body.questions[1]).toMatchObject({ agent_id: "a2", header: "H", multi_select: true, timeout_seconds: 300 });
    expect(body.questions[0]?.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const one = await harness.app.inject({ method: "GET", url: "/api/questions/pending?agent_id=a2" });
    expect((one.json() as { questions: Array<{ question_id: string }> }).questions.map((q) => q.question_id)).toEqual([q2.questionId]);

    await answer(harness, { agent_id: "a2", question_id: q2.questionId, selected: ["x"] });
    const after = await harness.app.inject({ method: "GET", url: "/api/questions/pending?agent_id=a2" });
    expect(after.body).toBe('{"questions":[]}\n');
  });

  it("serves only GET", async () => {
    const { harness } = await setup([]);
    const res = await harness.app.inject({ method: "DELETE", url: "/api/questions/pending" });
    expect([res.statusCode, res.body]).toEqual([405, ""]);
  });
});
