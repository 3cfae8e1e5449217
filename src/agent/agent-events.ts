// ABOUTME: The internal events an agent request produces, named after the SSE events of the send streams.
// ABOUTME: Decoded from MessageResponse at the rpc edge; consumed by the conversation turn pipeline.

/** Token counters of one `usage` event. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  thinkingTokens: number;
}

/** Non-terminal events of a request, in the order the agent sent them. */
export type AgentProgressEvent =
  | { kind: "thinking"; text: string }
  | { kind: "text"; text: string }
  | { kind: "tool_use"; id: string; name: string; inputJson: string }
  | { kind: "tool_result"; id: string; output: string; isError: boolean }
  | { kind: "tool_state"; id: string; state: ToolStateName; detail: string }
  | { kind: "tool_approval"; id: string; name: string; inputJson: string; requestId: string }
  | { kind: "file"; filename: string; mimeType: string; data: Uint8Array }
  | { kind: "session_init"; sessionId: string }
  | { kind: "session_orphaned"; reason: string }
  | ({ kind: "usage" } & TokenUsage);

/**
 * Terminal events. `origin` says who ended the request: the agent itself, or the gateway on its behalf
 * (disconnect, shutdown, cancel grace expiry). The ledger author depends on it.
 */
export type AgentTerminalEvent =
  | { kind: "done"; fullResponse: string; origin: "agent" }
  | { kind: "error"; error: string; origin: "agent" | "gateway" }
  | { kind: "canceled"; reason: string; origin: "agent" | "gateway" };

export type AgentEvent = AgentProgressEvent | AgentTerminalEvent;

/** True for `done`, `error` and `canceled`. */
export function isTerminal(event: AgentEvent): event is AgentTerminalEvent {
  return event.kind === "done" || event.kind === "error" || event.kind === "canceled";
}

export type ToolStateName =
  | "pending"
  | "awaiting_approval"
  | "running"
  | "completed"
  | "failed"
  | "denied"
  | "timeout"
  | "canceled"
  | "unknown";

const TOOL_STATES: readonly ToolStateName[] = [
  "unknown",
  "pending",
  "awaiting_approval",
  "running",
  "completed",
  "failed",
  "denied",
  "timeout",
  "canceled",
];

/** Maps the numeric `ToolState` enum to its string; 0 and unknown numbers become `unknown`. */
export function toolStateName(value: number): ToolStateName {
  return TOOL_STATES[value] ?? "unknown";
}

/** Well-known texts of gateway-made terminal events (exact: clients match them). */
export const TERMINAL_TEXT = {
  agentDisconnected: "agent disconnected",
  shuttingDown: "gateway shutting down",
  internal: "internal error",
} as const;
