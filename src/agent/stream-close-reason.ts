// ABOUTME: How a registered agent stream ended, as the closed set of ops.md §1.4 (`agent_end`, `heartbeat_timeout`,
// ABOUTME: `revoked`, `shutdown`, `error`): the metrics label and the `reason` of WS `presence` `disconnected`.
import type { StreamEnd } from "./agent-frames.js";

export const STREAM_CLOSE_REASONS = ["agent_end", "heartbeat_timeout", "revoked", "shutdown", "error"] as const;
export type StreamCloseReason = (typeof STREAM_CLOSE_REASONS)[number];

/** Maps the stream's end status (undefined: the agent half-closed) to its close reason. */
export function streamCloseReason(end: StreamEnd | undefined): StreamCloseReason {
  if (end === undefined) return "agent_end";
  if (end.closeReason !== undefined) return end.closeReason;
  if (end.code === "OK" || end.code === "CANCELED") return "agent_end";
  return "error";
}
