// ABOUTME: The `data` object of each agent event as clients see it (http-api.md §10.3), shared by SSE and WS runs.
// ABOUTME: Keys in sorted order; file bytes are never sent.
import type { AgentEvent } from "../agent/agent-events.js";
import type { UserQuestion } from "../store/question-repository.js";

/** The `data` object of an agent event, keyed as in the event catalog (§10.3). File bytes are never sent. */
export function agentEventData(event: AgentEvent): Record<string, unknown> {
  switch (event.kind) {
    case "thinking":
    case "text":
      return { text: event.text };
    case "tool_use":
      return { id: event.id, input_json: event.inputJson, name: event.name };
    case "tool_result":
      return { id: event.id, is_error: event.isError, output: event.output };
    case "tool_state":
      return { detail: event.detail, id: event.id, state: event.state };
    case "tool_approval":
      return { id: event.id, input_json: event.inputJson, name: event.name, request_id: event.requestId };
    case "file":
      return { filename: event.filename, mime_type: event.mimeType };
    case "session_init":
      return { session_id: event.sessionId };
    case "session_orphaned":
      return { reason: event.reason };
    case "usage":
      return {
        cache_read_tokens: Math.trunc(event.cacheReadTokens),
        cache_write_tokens: Math.trunc(event.cacheWriteTokens),
        input_tokens: Math.trunc(event.inputTokens),
        output_tokens: Math.trunc(event.outputTokens),
        thinking_tokens: Math.trunc(event.thinkingTokens),
      };
    case "done":
      return { full_response: event.fullResponse };
    case "error":
      return { error: event.error };
    case "canceled":
      return { reason: event.reason };
  }
}

/** The `user_question` data of http-api.md §10.3: `header` and option `description` are `""` when unset. */
export function userQuestionData(question: UserQuestion): Record<string, unknown> {
  return {
    agent_id: question.agentId,
    header: question.header ?? "",
    multi_select: question.multiSelect,
    options: question.options.map((option) => ({ description: option.description ?? "", label: option.label })),
    question: question.question,
    question_id: question.questionId,
    timeout_seconds: question.timeoutSeconds,
  };
}
