// ABOUTME: The JSON items of the pending approval and question listings (http-api.md §8), shared by every edge.
// ABOUTME: Keys in the spec's order; empty optional strings are `""`.
import type { ToolApproval } from "../store/approval-repository.js";
import type { UserQuestion } from "../store/question-repository.js";

/** One entry of the pending listing, keys in the spec's order; `thread_id` is `""` when the row has none. */
export function pendingApprovalJson(approval: ToolApproval): Record<string, unknown> {
  return {
    agent_id: approval.agentId,
    request_id: approval.requestId,
    tool_id: approval.toolId,
    tool_name: approval.toolName,
    input_json: approval.inputJson,
    thread_id: approval.threadId ?? "",
    created_at: approval.createdAt,
    expires_at: approval.expiresAt,
  };
}

/** One entry of the pending listing, keys in the spec's order; `header` and `description` are `""` when unset. */
export function pendingQuestionJson(question: UserQuestion): Record<string, unknown> {
  return {
    agent_id: question.agentId,
    question_id: question.questionId,
    question: question.question,
    options: question.options.map((option) => ({ label: option.label, description: option.description ?? "" })),
    multi_select: question.multiSelect,
    header: question.header ?? "",
    timeout_seconds: question.timeoutSeconds,
    created_at: question.createdAt,
    expires_at: question.expiresAt,
  };
}
