// ABOUTME: Maps the domain to the chat stream's SSE payloads (web-admin.md §6.3): ledger rows for replay,
// ABOUTME: transient agent events, approvals and questions with their resolutions; every payload has type+timestamp.
import type { AgentEvent } from "../agent/agent-events.js";
import type { ToolApproval } from "../store/approval-repository.js";
import type { LedgerEvent } from "../store/ledger-repository.js";
import type { UserQuestion } from "../store/question-repository.js";

/** One chat SSE payload; `type` is also the SSE event name. */
export type ChatPayload = { type: string; timestamp: string } & Record<string, unknown>;

function parseJson(text: string | null): Record<string, unknown> | undefined {
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A tool input as the `content` string: a string input stays as is, anything else is its JSON. */
function inputString(input: unknown): string {
  if (input === undefined) return "{}";
  return typeof input === "string" ? input : JSON.stringify(input);
}

/** A replayed ledger row (history, `"replay": true`); undefined for rows the chat does not show. */
export function replayPayload(event: LedgerEvent): ChatPayload | undefined {
  const base = { timestamp: event.timestamp, event_id: event.eventId, ...(event.requestId ? { request_id: event.requestId } : {}), replay: true };
  const text = event.text ?? "";
  switch (event.type) {
    case "message":
      return event.direction === "inbound_to_agent"
        ? { type: "user", ...base, content: text, sender: event.author }
        : { type: "text", ...base, content: text };
    case "tool_call": {
      const call = parseJson(event.text);
      return { type: "tool_use", ...base, tool_id: String(call?.id ?? ""), tool_name: String(call?.name ?? ""), content: inputString(call?.input) };
    }
    case "tool_result": {
      const result = parseJson(event.text);
      return { type: "tool_result", ...base, tool_id: String(result?.id ?? ""), content: String(result?.output ?? ""), is_error: result?.is_error === true };
    }
    case "system":
      return { type: "system", ...base, content: text };
    case "error":
      return { type: "error", ...base, content: text };
  }
  return undefined;
}

/** A live inbound message row becomes `user`; every other live ledger row is skipped (its content came live). */
export function liveLedgerPayload(event: LedgerEvent): ChatPayload | undefined {
  if (event.type !== "message" || event.direction !== "inbound_to_agent") return undefined;
  return {
    type: "user",
    timestamp: event.timestamp,
    event_id: event.eventId,
    ...(event.requestId ? { request_id: event.requestId } : {}),
    content: event.text ?? "",
    sender: event.author,
  };
}

/** A transient agent event of request `requestId`; undefined for kinds the chat does not carry. */
export function agentPayload(requestId: string, at: string, event: AgentEvent): ChatPayload | undefined {
  const base = { timestamp: at, request_id: requestId };
  switch (event.kind) {
    case "thinking":
      return { type: "thinking", ...base, content: event.text };
    case "text":
      return { type: "text", ...base, content: event.text };
    case "tool_use":
      return { type: "tool_use", ...base, tool_id: event.id, tool_name: event.name, content: event.inputJson };
    case "tool_state":
      return { type: "tool_state", ...base, tool_id: event.id, state: event.state, detail: event.detail };
    case "tool_result":
      return { type: "tool_result", ...base, tool_id: event.id, content: event.output, is_error: event.isError };
    case "usage":
      return {
        type: "usage",
        ...base,
        input_tokens: event.inputTokens,
        output_tokens: event.outputTokens,
        cache_read_tokens: event.cacheReadTokens,
        cache_write_tokens: event.cacheWriteTokens,
        thinking_tokens: event.thinkingTokens,
      };
    case "file":
      return { type: "file", ...base, filename: event.filename, mime_type: event.mimeType };
    case "done":
      return { type: "done", ...base, content: event.fullResponse };
    case "error":
      return { type: "error", ...base, content: event.error };
    case "canceled":
      return { type: "canceled", ...base, reason: event.reason };
    case "tool_approval":
    case "session_init":
    case "session_orphaned":
      return undefined;
  }
}

export function approvalPayload(approval: ToolApproval, at: string): ChatPayload {
  return {
    type: "tool_approval",
    timestamp: at,
    tool_id: approval.toolId,
    tool_name: approval.toolName,
    input_json: approval.inputJson,
    request_id: approval.requestId,
    expires_at: approval.expiresAt,
  };
}

export function approvalResolvedPayload(approval: ToolApproval, at: string): ChatPayload {
  return {
    type: "approval_resolved",
    timestamp: at,
    tool_id: approval.toolId,
    request_id: approval.requestId,
    status: approval.status,
    approve_all: approval.approveAll,
    resolved_by: approval.resolvedBy ?? "system",
  };
}

export function questionPayload(question: UserQuestion, at: string): ChatPayload {
  return {
    type: "user_question",
    timestamp: at,
    question_id: question.questionId,
    question: question.question,
    options: question.options.map((o) => ({ label: o.label, description: o.description ?? "" })),
    multi_select: question.multiSelect,
    header: question.header ?? "",
    timeout_seconds: question.timeoutSeconds,
    expires_at: question.expiresAt,
  };
}

export function questionResolvedPayload(question: UserQuestion, at: string): ChatPayload {
  return { type: "question_resolved", timestamp: at, question_id: question.questionId, status: question.status };
}

/** `event: <type>\ndata: <json>\n\n`. */
export function sseFrame(payload: ChatPayload): string {
  return `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`;
}
