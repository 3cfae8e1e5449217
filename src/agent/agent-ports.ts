// ABOUTME: Narrow interfaces the agent layer needs from layers it may not import (packs, presence, secrets).
// ABOUTME: The composition root wires real implementations; defaults keep the foundation slice working alone.
import type { ToolDefinition } from "./agent-frames.js";

/** The caller of one agent stream, as authenticated before the handler ran. */
export interface StreamPrincipal {
  id: string;
  isAnonymous: boolean;
}

/** Tools offered to agents in the Welcome. */
export interface ToolCatalog {
  toolsFor(capabilities: readonly string[]): ToolDefinition[];
}

/** Result text of one pack-tool call made by an agent. */
export type PackToolOutcome = { outputJson: string } | { error: string };

/** Runs `execute_pack_tool` calls (builtin or external packs). */
export interface PackToolExecutor {
  execute(
    call: { agentId: string; principalId: string; capabilities: readonly string[]; requestId: string; toolName: string; inputJson: string },
    signal: AbortSignal,
  ): Promise<PackToolOutcome>;
}

/** Principal presence (online/offline/last_seen), skipped for the anonymous principal by the caller. */
export interface PresenceTracker {
  streamOpened(principalId: string): void;
  streamClosed(principalId: string): void;
  frameReceived(principalId: string): void;
  /** Another stream of an already-online principal registered or ended: record `last_seen` now. */
  streamTouched(principalId: string): void;
}

/** Effective secrets of one agent id and the leader-role grant. */
export interface AgentDirectory {
  effectiveSecrets(agentId: string): Promise<Record<string, string>>;
  grantLeader(principalId: string): Promise<void>;
}

export const emptyToolCatalog: ToolCatalog = { toolsFor: () => [] };

export const noPackTools: PackToolExecutor = {
  execute: async () => ({ error: "tool not found" }),
};

export const noPresence: PresenceTracker = {
  streamOpened: () => {},
  streamClosed: () => {},
  frameReceived: () => {},
  streamTouched: () => {},
};

export const emptyDirectory: AgentDirectory = {
  effectiveSecrets: async () => ({}),
  grantLeader: async () => {},
};

/** What operations count on agent streams (ops.md §1.3): dropped events, backpressure pauses, refusals. O(1) each. */
export interface AgentStreamObserver {
  eventDiscarded(reason: "no_event" | "unknown_request"): void;
  backpressurePause(): void;
  /** An authenticated stream ended before its Welcome was queued (bad first frame, duplicate id, shutdown). */
  registrationRefused(): void;
}

export const noStreamObserver: AgentStreamObserver = { eventDiscarded: () => {}, backpressurePause: () => {}, registrationRefused: () => {} };
