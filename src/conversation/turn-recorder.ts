// ABOUTME: Writes one turn's agent events to the ledger by the rules of store.md §5 and publishes each row.
// ABOUTME: Text is buffered into one final message; transient events are never stored; failures are logged and counted.
import type { AgentEvent } from "../agent/agent-events.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import type { LedgerEvent, LedgerRepository, NewLedgerEvent } from "../store/ledger-repository.js";
import type { UsageRepository } from "../store/usage-repository.js";
import type { EventHub } from "./event-hub.js";
import { toolCallText, toolResultText } from "./tool-text.js";
import type { TurnWatch } from "./turn-observer.js";

/** Hooks for approval rows (owned by the approvals service); optional so the foundation runs without them. */
export interface TurnApprovals {
  recordPending(input: {
    agentId: string;
    principalId: string;
    requestId: string;
    threadId: string;
    toolId: string;
    toolName: string;
    inputJson: string;
  }): Promise<"pending" | "guard_denied">;
  cancelForRequest(requestId: string): Promise<void>;
}

export interface TurnContext {
  agentId: string;
  agentPrincipalId: string;
  requestId: string;
  threadId: string;
}

export interface TurnRecorderDeps {
  ledger: LedgerRepository;
  usage: UsageRepository;
  hub: EventHub;
  clock: Clock;
  log: Logger;
  approvals?: TurnApprovals | undefined;
  counters: { persistFailures: number };
  /** Operations' hooks of this turn: pricing and spend of usage rows. */
  watch?: TurnWatch | undefined;
}

/** Whether an event recorded is relayed to subscribers: a guard-denied approval request is withheld (ops.md §3.3). */
export type RecordOutcome = "relay" | "withhold";

/** Persists the events of one turn, in arrival order. One instance per turn. */
export class TurnRecorder {
  #deps: TurnRecorderDeps;
  #turn: TurnContext;
  #buffer = "";
  #hasText = false;
  #hasUsage = false;
  #hasApprovals = false;

  constructor(deps: TurnRecorderDeps, turn: TurnContext) {
    this.#deps = deps;
    this.#turn = turn;
  }

  /**
   * Records one event; never throws (a failed write is logged with its cause and counted). Events that write
   * nothing (text is only buffered) complete synchronously and return undefined, so the per-chunk path allocates
   * no promise.
   */
  record(event: AgentEvent): Promise<RecordOutcome> | undefined {
    switch (event.kind) {
      case "text":
        this.#buffer += event.text;
        this.#hasText = true;
        return undefined;
      case "thinking":
      case "tool_state":
      case "file":
      case "session_init":
      case "session_orphaned":
        return undefined;
      default:
        return this.#recordAsync(event);
    }
  }

  async #recordAsync(event: AgentEvent): Promise<RecordOutcome> {
    let outcome: RecordOutcome = "relay";
    try {
      outcome = (await this.#record(event)) ?? "relay";
    } catch (err) {
      this.#deps.counters.persistFailures += 1;
      this.#deps.log.error("persisting turn event failed", {
        request_id: this.#turn.requestId,
        kind: event.kind,
        cause: err,
      });
    }
    if (event.kind === "done" || event.kind === "error" || event.kind === "canceled") {
      await this.#afterTerminal();
    }
    return outcome;
  }

  async #record(event: AgentEvent): Promise<RecordOutcome | undefined> {
    const agentAuthor = `agent:${this.#turn.agentId}`;
    switch (event.kind) {
      case "text":
        this.#buffer += event.text;
        this.#hasText = true;
        return;
      case "thinking":
      case "tool_state":
      case "file":
      case "session_init":
      case "session_orphaned":
        return;
      case "tool_use":
        await this.#append({ author: agentAuthor, type: "tool_call", text: toolCallText(event.name, event.id, event.inputJson) }, true);
        return;
      case "tool_result":
        await this.#append({ author: agentAuthor, type: "tool_result", text: toolResultText(event.id, event.output, event.isError) }, true);
        return;
      case "usage": {
        this.#hasUsage = true;
        const counts = {
          inputTokens: Math.max(0, event.inputTokens),
          outputTokens: Math.max(0, event.outputTokens),
          cacheReadTokens: Math.max(0, event.cacheReadTokens),
          cacheWriteTokens: Math.max(0, event.cacheWriteTokens),
          thinkingTokens: Math.max(0, event.thinkingTokens),
        };
        const costMicros = this.#deps.watch?.price(counts) ?? null;
        await this.#deps.usage.insert({
          threadId: this.#turn.threadId,
          requestId: this.#turn.requestId,
          agentId: this.#turn.agentId,
          ...counts,
          costMicros,
          createdAt: isoTimestamp(this.#deps.clock.now()),
        });
        this.#deps.watch?.usageStored(counts, costMicros);
        return;
      }
      case "tool_approval": {
        this.#hasApprovals = true;
        const stored = await this.#deps.approvals?.recordPending({
          agentId: this.#turn.agentId,
          principalId: this.#turn.agentPrincipalId,
          requestId: this.#turn.requestId,
          threadId: this.#turn.threadId,
          toolId: event.id,
          toolName: event.name,
          inputJson: event.inputJson,
        });
        return stored === "guard_denied" ? "withhold" : "relay";
      }
      case "done": {
        const final = this.#hasText ? this.#buffer : event.fullResponse;
        this.#buffer = "";
        this.#hasText = false;
        if (final !== "") await this.#appendFinal(final);
        return;
      }
      case "error":
        await this.#flushPartial();
        await this.#append(
          { author: event.origin === "agent" ? agentAuthor : "system", type: "error", text: event.error },
          event.origin === "agent",
        );
        return;
      case "canceled": {
        await this.#flushPartial();
        const byAgent = event.origin === "agent";
        const text = byAgent && event.reason === "" ? "canceled" : `canceled: ${event.reason}`;
        await this.#append({ author: byAgent ? agentAuthor : "system", type: "system", text }, byAgent);
        return;
      }
    }
  }

  async #flushPartial(): Promise<void> {
    if (!this.#hasText || this.#buffer === "") return;
    const text = this.#buffer;
    this.#buffer = "";
    this.#hasText = false;
    await this.#appendFinal(text);
  }

  async #appendFinal(text: string): Promise<void> {
    await this.#append({ author: `agent:${this.#turn.agentId}`, type: "message", text }, true, true);
  }

  async #append(
    row: Pick<NewLedgerEvent, "author" | "type" | "text">,
    byAgent: boolean,
    linkUsage = false,
  ): Promise<LedgerEvent> {
    const event = await this.#deps.ledger.append(
      {
        conversationKey: this.#turn.agentId,
        threadId: this.#turn.threadId,
        requestId: this.#turn.requestId,
        direction: "outbound_from_agent",
        actorPrincipalId: byAgent ? this.#turn.agentPrincipalId : null,
        ...row,
      },
      linkUsage && this.#hasUsage ? { linkUsageForRequestId: this.#turn.requestId } : undefined,
    );
    this.#deps.hub.publish({ kind: "ledger", conversationKey: this.#turn.agentId, requestId: this.#turn.requestId, event });
    return event;
  }

  async #afterTerminal(): Promise<void> {
    // Only a turn that raised approvals can have pending ones; the others skip a write per turn.
    if (!this.#hasApprovals) return;
    try {
      await this.#deps.approvals?.cancelForRequest(this.#turn.requestId);
    } catch (err) {
      this.#deps.counters.persistFailures += 1;
      this.#deps.log.error("canceling approvals of finished request failed", { request_id: this.#turn.requestId, cause: err });
    }
  }
}
