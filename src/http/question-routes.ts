// ABOUTME: `ask_user` questions over HTTP (http-api.md §8): POST /api/questions/answer hands a valid answer to the
// ABOUTME: waiting call, GET /api/questions/pending lists what is waiting. The question router owns the checks.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { QuestionRouter } from "../conversation/question-router.js";
import { GatewayError, isGatewayError } from "../lib/gateway-error.js";
import { principalOf } from "./http-auth.js";
import { sendJson, sendMethodNotAllowed } from "./http-reply.js";
import { readJsonObject, stringField, type JsonObject } from "./request-body.js";
import { queryParam } from "./route-input.js";
import { pendingQuestionJson } from "../conversation/pending-json.js";

export interface QuestionRouteDeps {
  questions: Pick<QuestionRouter, "answer" | "listPending">;
}

/** The reference text for an unknown, already answered or other agent's question; it reveals nothing. */
export const QUESTION_NOT_FOUND = "question not found or already answered";

/**
 * Registers `/api/questions/answer` (POST) and `/api/questions/pending` (GET); other methods get 405. Must be
 * registered inside the JWT scope. Answer checks, in order: 400 `invalid JSON body`, `agent_id is required`,
 * `question_id is required`, `at least one selection or custom_text is required` (before the lookup); 404
 * `question not found or already answered`; 400 `unknown option label: "<label>"`, `multiple selections not
 * allowed for this question`. Success is 200 `{"success":true}`, audited `answer_question`. A failed check leaves
 * the question pending.
 */
export function questionRoutes(deps: QuestionRouteDeps) {
  return async function registerQuestionRoutes(app: FastifyInstance): Promise<void> {
    app.all("/api/questions/answer", async (request, reply) => {
      if (request.method !== "POST") return sendMethodNotAllowed(reply);
      return answerQuestion(deps, request, reply);
    });
    app.all("/api/questions/pending", async (request, reply) => {
      if (request.method !== "GET") return sendMethodNotAllowed(reply);
      const questions = await deps.questions.listPending(queryParam(request, "agent_id"));
      return sendJson(reply, 200, { questions: questions.map(pendingQuestionJson) });
    });
  };
}

async function answerQuestion(deps: QuestionRouteDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body = readJsonObject(request);
  const agentId = stringField(body, "agent_id");
  const questionId = stringField(body, "question_id");
  const selected = stringArrayField(body, "selected");
  const customText = stringField(body, "custom_text");
  if (agentId === "") throw new GatewayError("INVALID_ARGUMENT", "agent_id is required");
  if (questionId === "") throw new GatewayError("INVALID_ARGUMENT", "question_id is required");
  if (selected.length === 0 && customText === "") {
    throw new GatewayError("INVALID_ARGUMENT", "at least one selection or custom_text is required");
  }
  const principal = principalOf(request);
  try {
    await deps.questions.answer({ agentId, questionId, selected, customText, actor: principal.id });
  } catch (err) {
    // Unknown, not pending, and another agent's question all read the same (packs-mcp.md §5.5 surface mapping).
    if (isGatewayError(err, "NOT_FOUND")) throw new GatewayError("NOT_FOUND", QUESTION_NOT_FOUND, { cause: err });
    throw err;
  }
  return sendJson(reply, 200, { success: true });
}

/**
 * A known array-of-strings field: `[]` when absent or JSON null. Throws GatewayError INVALID_ARGUMENT `invalid
 * JSON body` when the field is not an array or holds a non-string.
 */
function stringArrayField(body: JsonObject, name: string): string[] {
  const value = body[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string")) {
    throw new GatewayError("INVALID_ARGUMENT", "invalid JSON body");
  }
  return value;
}
