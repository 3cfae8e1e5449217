// ABOUTME: Domain records as WebSocket payload objects (ws.md §3.1, §4): LedgerEvent with optional keys omitted
// ABOUTME: when NULL, and the resolved approval/question payloads of the `approvals` and `questions` topics.
import type { ToolApproval } from "../store/approval-repository.js";
import type { LedgerEvent } from "../store/ledger-repository.js";
import type { UserQuestion } from "../store/question-repository.js";

/** A ledger row as a WS `LedgerEvent`: the GetEvents keys plus thread_id and request_id, NULLs omitted. */
export function ledgerEventJson(event: LedgerEvent): Record<string, unknown> {
  return {
    id: event.eventId,
    conversation_key: event.conversationKey,
    ...(event.threadId === null ? {} : { thread_id: event.threadId }),
    ...(event.requestId === null ? {} : { request_id: event.requestId }),
    direction: event.direction,
    author: event.author,
    timestamp: event.timestamp,
    type: event.type,
    ...(event.text === null ? {} : { text: event.text }),
    ...(event.rawTransport === null ? {} : { raw_transport: event.rawTransport }),
    ...(event.rawPayloadRef === null ? {} : { raw_payload_ref: event.rawPayloadRef }),
    ...(event.actorPrincipalId === null ? {} : { actor_principal_id: event.actorPrincipalId }),
  };
}

/** The `approval` payload of a resolution (ws.md §4); `resolved_by` is `system` when the row names nobody. */
export function approvalResolvedJson(approval: ToolApproval): Record<string, unknown> {
  return {
    kind: "resolved",
    agent_id: approval.agentId,
    request_id: approval.requestId,
    tool_id: approval.toolId,
    status: approval.status,
    approve_all: approval.approveAll,
    resolved_by: approval.resolvedBy ?? "system",
  };
}

/** The `question` payload of a resolution (ws.md §4). */
export function questionResolvedJson(question: UserQuestion): Record<string, unknown> {
  return { kind: "resolved", agent_id: question.agentId, question_id: question.questionId, status: question.status };
}

/** The `tool_approval` data of a stored approval, shaped as the agent event's (http-api.md §10.3). */
export function approvalActivityData(approval: ToolApproval): Record<string, unknown> {
  return { id: approval.toolId, input_json: approval.inputJson, name: approval.toolName, request_id: approval.requestId };
}
