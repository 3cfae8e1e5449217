// ABOUTME: Encodes send-stream events as SSE frames (http-api.md §10.2-§10.3): `event: <name>` + one-line JSON.
// ABOUTME: Object keys are sorted at every level, matching the reference's byte order for existing events.
import type { AgentEvent } from "../agent/agent-events.js";
import { agentEventData } from "../conversation/agent-event-data.js";

/** The comment sent on idle streams so proxies keep them open; clients ignore it. */
export const HEARTBEAT_FRAME = ": heartbeat\n\n";

/** Compact JSON with object keys sorted lexicographically at every level. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}

/** One SSE frame: `event: <name>\ndata: <sorted compact JSON>\n\n`. */
export function sseFrame(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${sortedJson(data)}\n\n`;
}

/** The first frame of every send stream. */
export function startedFrame(started: { messageId: string; requestId: string; threadId: string }): string {
  return sseFrame("started", {
    message_id: started.messageId,
    request_id: started.requestId,
    thread_id: started.threadId,
  });
}

/** The SSE frame of an agent event; the event name is the event's kind. */
export function agentEventFrame(event: AgentEvent): string {
  return sseFrame(event.kind, agentEventData(event));
}
