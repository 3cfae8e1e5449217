// ABOUTME: The port through which operations watch turns (ops.md §1.3, §4): metrics per event, pricing and spend per usage row.
// ABOUTME: Implemented in gateway wiring over src/ops; every hook is synchronous and O(1) so the hot path never waits on it.

import type { AgentEvent } from "../agent/agent-events.js";

/** Which ingress a turn came from (ops.md §1.4 `ingress`). */
export type TurnIngress = "http" | "grpc" | "webchat" | "ws" | "tool";

export interface UsageCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  thinkingTokens: number;
}

/** Hooks of one accepted turn. */
export interface TurnWatch {
  /** Every event of the turn, in order (before it is recorded); `tool_use` events also reach the guard. */
  event(event: AgentEvent): void;
  /** The priced cost in micros of a usage row about to be stored, or null when unpriced. */
  price(usage: UsageCounts): number | null;
  /** A usage row was stored with that cost. */
  usageStored(usage: UsageCounts, costMicros: number | null): void;
}

export interface TurnObserver {
  /** A turn was accepted: its dispatch to the agent succeeded. */
  accepted(turn: { requestId: string; ingress: TurnIngress; agentId: string; actorPrincipalId: string | null }): TurnWatch;
  /** A send's write transaction (thread, user message, idempotency key) committed after `seconds`. */
  committed(seconds: number): void;
}
