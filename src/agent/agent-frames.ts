// ABOUTME: Transport-neutral shapes of the frames exchanged on an agent stream.
// ABOUTME: The rpc edge decodes protobuf into these and encodes these back, so the domain never sees generated code.
import type { AgentEvent } from "./agent-events.js";
import type { ErrorCode } from "../lib/gateway-error.js";

export interface GitInfo {
  branch: string;
  commit: string;
  dirty: boolean;
  remote: string;
  ahead: number;
  behind: number;
}

export interface RegisterFrame {
  kind: "register";
  agentId: string;
  name: string;
  capabilities: string[];
  protocolFeatures: string[];
  metadata: {
    workingDirectory: string;
    hostname: string;
    os: string;
    workspaces: string[];
    backend: string;
    git: GitInfo | undefined;
  };
}

/** One frame read from an agent, decoded. `response` with `event: undefined` means no event member was set. */
export type InboundFrame =
  | RegisterFrame
  | { kind: "response"; requestId: string; event: AgentEvent | undefined }
  | { kind: "heartbeat"; timestampMs: bigint }
  | { kind: "injection_ack"; injectionId: string; accepted: boolean; reason: string | undefined }
  | { kind: "execute_pack_tool"; requestId: string; toolName: string; inputJson: string }
  | { kind: "empty" };

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchemaJson: string;
  requiredCapabilities: string[];
  timeoutSeconds: number;
}

export interface Attachment {
  filename: string;
  mimeType: string;
  data: Uint8Array;
}

export type InjectionPriority = "immediate" | "normal" | "deferred";

/** One frame the gateway writes to an agent. */
export type OutboundFrame =
  | {
      kind: "welcome";
      serverId: string;
      agentId: string;
      instanceId: string;
      principalId: string;
      availableTools: ToolDefinition[];
      mcpToken: string;
      mcpEndpoint: string;
      secrets: Record<string, string>;
    }
  | { kind: "send_message"; requestId: string; threadId: string; sender: string; content: string; attachments: Attachment[] }
  | { kind: "shutdown"; reason: string }
  | { kind: "tool_approval"; id: string; approved: boolean; approveAll: boolean }
  | { kind: "registration_error"; reason: string; suggestedId: string }
  | { kind: "inject_context"; injectionId: string; content: string; priority: InjectionPriority; source: string | undefined }
  | { kind: "cancel_request"; requestId: string; reason: string | undefined }
  | { kind: "pack_tool_result"; requestId: string; result: { outputJson: string } | { error: string } };

/** How a stream ends: OK or one of the domain error codes, with the status message. */
export interface StreamEnd {
  code: "OK" | ErrorCode;
  message: string;
  /**
   * Why the gateway ended it, where that is one of ops.md §1.4's named causes; set where the end is made, so the
   * metrics label and the WS presence reason never depend on the message's wording. Absent: the agent ended it
   * (OK / CANCELED) or an error did.
   */
  closeReason?: "heartbeat_timeout" | "shutdown" | "revoked";
}

/**
 * The transport side of one agent stream, implemented by the rpc edge.
 * `write` resolves once the frame is handed to the transport and its buffer has room again (backpressure);
 * it rejects when the stream is broken. `pause`/`resume` stop and restart reading (HTTP/2 flow control).
 */
export interface AgentStreamIo {
  write(frame: OutboundFrame): Promise<void>;
  pause(): void;
  resume(): void;
  end(status: StreamEnd): void;
  readonly peer: string;
}
