// ABOUTME: Converts the conversation domain to ClientService protobuf messages and back: ledger events, stream
// ABOUTME: payloads (every ClientStreamEvent variant), agents, bindings, attachments and the SendMessage fingerprint.
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { AgentInfo } from "../agent/agent-connection.js";
import type { ToolStateName } from "../agent/agent-events.js";
import type { Attachment } from "../agent/agent-frames.js";
import type { StreamMessage, StreamPayload } from "../conversation/event-stream.js";
import type { UserQuestion } from "../store/question-repository.js";
import * as pb from "../gen/coven_pb.js";
import type { Binding } from "../store/binding-repository.js";
import type { LedgerEvent } from "../store/ledger-repository.js";

const TOOL_STATES: Record<ToolStateName, pb.ToolState> = {
  unknown: pb.ToolState.UNSPECIFIED,
  pending: pb.ToolState.PENDING,
  awaiting_approval: pb.ToolState.AWAITING_APPROVAL,
  running: pb.ToolState.RUNNING,
  completed: pb.ToolState.COMPLETED,
  failed: pb.ToolState.FAILED,
  denied: pb.ToolState.DENIED,
  timeout: pb.ToolState.TIMEOUT,
  canceled: pb.ToolState.CANCELLED,
};

const orUnset = (value: string | null | undefined): string | undefined => (value === null || value === "" ? undefined : value);

/** A ledger row as `coven.Event` (GetEvents, and the `event` payload of StreamEvents); NULL columns stay unset. */
export function encodeLedgerEvent(event: LedgerEvent): pb.Event {
  return create(pb.EventSchema, {
    id: event.eventId,
    conversationKey: event.conversationKey,
    direction: event.direction,
    author: event.author,
    timestamp: event.timestamp,
    type: event.type,
    text: event.text ?? undefined,
    rawTransport: event.rawTransport ?? undefined,
    rawPayloadRef: event.rawPayloadRef ?? undefined,
    actorPrincipalId: event.actorPrincipalId ?? undefined,
  });
}

function encodeQuestion(question: UserQuestion): pb.UserQuestionRequest {
  return create(pb.UserQuestionRequestSchema, {
    agentId: question.agentId,
    questionId: question.questionId,
    question: question.question,
    options: question.options.map((option) =>
      create(pb.QuestionOptionSchema, { label: option.label, description: orUnset(option.description) }),
    ),
    multiSelect: question.multiSelect,
    header: orUnset(question.header),
    timeoutSeconds: question.timeoutSeconds,
  });
}

function encodePayload(payload: StreamPayload): pb.ClientStreamEvent["payload"] {
  switch (payload.kind) {
    case "event":
      return { case: "event", value: encodeLedgerEvent(payload.event) };
    case "text":
      return { case: "text", value: create(pb.TextChunkSchema, { content: payload.content }) };
    case "thinking":
      return { case: "thinking", value: create(pb.ThinkingChunkSchema, { content: payload.content }) };
    case "tool_use":
      return { case: "toolUse", value: create(pb.ToolUseSchema, { id: payload.id, name: payload.name, inputJson: payload.inputJson }) };
    case "tool_result":
      return {
        case: "toolResult",
        value: create(pb.ToolResultSchema, { id: payload.id, output: payload.output, isError: payload.isError }),
      };
    case "tool_state":
      return {
        case: "toolState",
        value: create(pb.ToolStateUpdateSchema, { id: payload.id, state: TOOL_STATES[payload.state], detail: orUnset(payload.detail) }),
      };
    case "usage":
      return {
        case: "usage",
        value: create(pb.TokenUsageSchema, {
          inputTokens: payload.inputTokens,
          outputTokens: payload.outputTokens,
          cacheReadTokens: payload.cacheReadTokens,
          cacheWriteTokens: payload.cacheWriteTokens,
          thinkingTokens: payload.thinkingTokens,
        }),
      };
    case "done":
      return { case: "done", value: create(pb.StreamDoneSchema, { fullResponse: orUnset(payload.fullResponse) }) };
    case "error":
      return { case: "error", value: create(pb.StreamErrorSchema, { message: payload.message, recoverable: payload.recoverable }) };
    case "tool_approval":
      return {
        case: "toolApproval",
        value: create(pb.ClientToolApprovalRequestSchema, {
          agentId: payload.agentId,
          requestId: payload.requestId,
          toolId: payload.toolId,
          toolName: payload.toolName,
          inputJson: payload.inputJson,
        }),
      };
    case "user_question":
      return { case: "userQuestion", value: encodeQuestion(payload.question) };
  }
}

/**
 * One StreamEvents message as `coven.ClientStreamEvent`. The timestamp is the engine's (ledger time for `event`,
 * receive time otherwise), already RFC 3339 UTC with milliseconds.
 */
export function encodeStreamMessage(message: StreamMessage): pb.ClientStreamEvent {
  return create(pb.ClientStreamEventSchema, {
    conversationKey: message.conversationKey,
    timestamp: message.timestamp,
    payload: encodePayload(message.payload),
  });
}

/** A connected agent as `coven.AgentInfo` (always `connected:true`, `metadata` always set). */
export function encodeAgentInfo(agent: AgentInfo): pb.AgentInfo {
  return create(pb.AgentInfoSchema, {
    id: agent.agentId,
    name: agent.name,
    backend: agent.backend,
    workingDir: agent.workingDir,
    connected: true,
    metadata: create(pb.AgentMetadataSchema, {
      workingDirectory: agent.workingDir,
      git: agent.git === undefined ? undefined : create(pb.GitInfoSchema, { ...agent.git }),
      hostname: agent.hostname,
      os: agent.os,
      workspaces: [...agent.workspaces],
      backend: agent.backend,
    }),
  });
}

/** A stored binding as `coven.Binding` (`created_by` unset when NULL; `working_dir` is not part of the proto). */
export function encodeBinding(binding: Binding): pb.Binding {
  return create(pb.BindingSchema, {
    id: binding.id,
    frontend: binding.frontend,
    channelId: binding.channelId,
    agentId: binding.agentId,
    createdAt: binding.createdAt,
    createdBy: binding.createdBy,
  });
}

/** The request's attachments for the agent's SendMessage, forwarded unchanged. */
export function decodeAttachments(attachments: readonly pb.FileAttachment[]): Attachment[] {
  return attachments.map((a) => ({ filename: a.filename, mimeType: a.mimeType, data: a.data }));
}

/**
 * The idempotency fingerprint of a ClientService.SendMessage (store.md §7): SHA-256 hex of the compact JSON
 * `{"op":"client.send","conversation_key","content","attachments":[{"filename","mime_type","sha256"}]}`, keys in
 * that order, each attachment's `sha256` being the hex digest of its bytes.
 */
export function clientSendRequestHash(request: Pick<pb.ClientSendMessageRequest, "conversationKey" | "content" | "attachments">): string {
  const canonical = JSON.stringify({
    op: "client.send",
    conversation_key: request.conversationKey,
    content: request.content,
    attachments: request.attachments.map((a) => ({
      filename: a.filename,
      mime_type: a.mimeType,
      sha256: createHash("sha256").update(a.data).digest("hex"),
    })),
  });
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}
