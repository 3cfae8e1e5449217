// ABOUTME: Converts AgentStream protobuf messages to the agent domain's frames and back.
// ABOUTME: Lenient on input (unset oneofs, unknown enum numbers, empty inner messages map to zero values).
import { create } from "@bufbuild/protobuf";
import * as pb from "../gen/coven_pb.js";
import type { AgentEvent } from "../agent/agent-events.js";
import { toolStateName } from "../agent/agent-events.js";
import type { InboundFrame, OutboundFrame } from "../agent/agent-frames.js";

/** Decodes one agent → gateway frame. */
export function decodeAgentMessage(message: pb.AgentMessage): InboundFrame {
  const payload = message.payload;
  switch (payload.case) {
    case "register": {
      const r = payload.value;
      const m = r.metadata;
      return {
        kind: "register",
        agentId: r.agentId,
        name: r.name,
        capabilities: [...r.capabilities],
        protocolFeatures: [...r.protocolFeatures],
        metadata: {
          workingDirectory: m?.workingDirectory ?? "",
          hostname: m?.hostname ?? "",
          os: m?.os ?? "",
          workspaces: [...(m?.workspaces ?? [])],
          backend: m?.backend ?? "",
          git: m?.git
            ? {
                branch: m.git.branch,
                commit: m.git.commit,
                dirty: m.git.dirty,
                remote: m.git.remote,
                ahead: m.git.ahead,
                behind: m.git.behind,
              }
            : undefined,
        },
      };
    }
    case "response":
      return { kind: "response", requestId: payload.value.requestId, event: decodeEvent(payload.value) };
    case "heartbeat":
      return { kind: "heartbeat", timestampMs: payload.value.timestampMs };
    case "injectionAck":
      return {
        kind: "injection_ack",
        injectionId: payload.value.injectionId,
        accepted: payload.value.accepted,
        reason: payload.value.reason,
      };
    case "executePackTool":
      return {
        kind: "execute_pack_tool",
        requestId: payload.value.requestId,
        toolName: payload.value.toolName,
        inputJson: payload.value.inputJson,
      };
    default:
      return { kind: "empty" };
  }
}

function decodeEvent(response: pb.MessageResponse): AgentEvent | undefined {
  const event = response.event;
  switch (event.case) {
    case "thinking":
      return { kind: "thinking", text: event.value };
    case "text":
      return { kind: "text", text: event.value };
    case "toolUse":
      return { kind: "tool_use", id: event.value.id, name: event.value.name, inputJson: event.value.inputJson };
    case "toolResult":
      return { kind: "tool_result", id: event.value.id, output: event.value.output, isError: event.value.isError };
    case "done":
      return { kind: "done", fullResponse: event.value.fullResponse, origin: "agent" };
    case "error":
      return { kind: "error", error: event.value, origin: "agent" };
    case "file":
      return { kind: "file", filename: event.value.filename, mimeType: event.value.mimeType, data: event.value.data };
    case "toolApprovalRequest":
      return {
        kind: "tool_approval",
        id: event.value.id,
        name: event.value.name,
        inputJson: event.value.inputJson,
        requestId: response.requestId,
      };
    case "sessionInit":
      return { kind: "session_init", sessionId: event.value.sessionId };
    case "sessionOrphaned":
      return { kind: "session_orphaned", reason: event.value.reason };
    case "usage":
      return {
        kind: "usage",
        inputTokens: event.value.inputTokens,
        outputTokens: event.value.outputTokens,
        cacheReadTokens: event.value.cacheReadTokens,
        cacheWriteTokens: event.value.cacheWriteTokens,
        thinkingTokens: event.value.thinkingTokens,
      };
    case "toolState":
      return {
        kind: "tool_state",
        id: event.value.id,
        state: toolStateName(event.value.state),
        detail: event.value.detail ?? "",
      };
    case "cancelled":
      return { kind: "canceled", reason: event.value.reason, origin: "agent" };
    default:
      return undefined;
  }
}

const PRIORITY: Record<"immediate" | "normal" | "deferred", pb.InjectionPriority> = {
  immediate: pb.InjectionPriority.IMMEDIATE,
  normal: pb.InjectionPriority.NORMAL,
  deferred: pb.InjectionPriority.DEFERRED,
};

/** Encodes one gateway → agent frame. */
export function encodeServerMessage(frame: OutboundFrame): pb.ServerMessage {
  switch (frame.kind) {
    case "welcome":
      return create(pb.ServerMessageSchema, {
        payload: {
          case: "welcome",
          value: create(pb.WelcomeSchema, {
            serverId: frame.serverId,
            agentId: frame.agentId,
            instanceId: frame.instanceId,
            principalId: frame.principalId,
            availableTools: frame.availableTools.map((t) =>
              create(pb.ToolDefinitionSchema, {
                name: t.name,
                description: t.description,
                inputSchemaJson: t.inputSchemaJson,
                requiredCapabilities: t.requiredCapabilities,
                timeoutSeconds: t.timeoutSeconds,
              }),
            ),
            mcpToken: frame.mcpToken,
            mcpEndpoint: frame.mcpEndpoint,
            secrets: frame.secrets,
          }),
        },
      });
    case "send_message":
      return create(pb.ServerMessageSchema, {
        payload: {
          case: "sendMessage",
          value: create(pb.SendMessageSchema, {
            requestId: frame.requestId,
            threadId: frame.threadId,
            sender: frame.sender,
            content: frame.content,
            attachments: frame.attachments.map((a) =>
              create(pb.FileAttachmentSchema, { filename: a.filename, mimeType: a.mimeType, data: a.data }),
            ),
          }),
        },
      });
    case "shutdown":
      return create(pb.ServerMessageSchema, {
        payload: { case: "shutdown", value: create(pb.ShutdownSchema, { reason: frame.reason }) },
      });
    case "tool_approval":
      return create(pb.ServerMessageSchema, {
        payload: {
          case: "toolApproval",
          value: create(pb.ToolApprovalResponseSchema, {
            id: frame.id,
            approved: frame.approved,
            approveAll: frame.approveAll,
          }),
        },
      });
    case "registration_error":
      return create(pb.ServerMessageSchema, {
        payload: {
          case: "registrationError",
          value: create(pb.RegistrationErrorSchema, { reason: frame.reason, suggestedId: frame.suggestedId }),
        },
      });
    case "inject_context":
      return create(pb.ServerMessageSchema, {
        payload: {
          case: "injectContext",
          value: create(pb.InjectContextSchema, {
            injectionId: frame.injectionId,
            content: frame.content,
            priority: PRIORITY[frame.priority],
            ...(frame.source !== undefined ? { source: frame.source } : {}),
          }),
        },
      });
    case "cancel_request":
      return create(pb.ServerMessageSchema, {
        payload: {
          case: "cancelRequest",
          value: create(pb.CancelRequestSchema, {
            requestId: frame.requestId,
            ...(frame.reason !== undefined ? { reason: frame.reason } : {}),
          }),
        },
      });
    case "pack_tool_result":
      return create(pb.ServerMessageSchema, {
        payload: {
          case: "packToolResult",
          value: create(pb.PackToolResultSchema, {
            requestId: frame.requestId,
            result:
              "outputJson" in frame.result
                ? { case: "outputJson", value: frame.result.outputJson }
                : { case: "error", value: frame.result.error },
          }),
        },
      });
  }
}
