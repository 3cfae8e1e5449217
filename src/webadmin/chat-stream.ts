// ABOUTME: Runs one `GET /chat/{agentId}/stream` (web-admin.md §6.3): subscribe first, then connected, replay,
// ABOUTME: in-flight catch-up, pending prompts, history_end, live events; overflow ends with a counted error.
import type { AgentManager } from "../agent/agent-manager.js";
import type { EventHub, HubEvent } from "../conversation/event-hub.js";
import type { TurnCatchUpSnapshot } from "../conversation/turn-catch-up.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import type { ToolApproval } from "../store/approval-repository.js";
import type { LedgerRepository } from "../store/ledger-repository.js";
import type { UserQuestion } from "../store/question-repository.js";
import {
  agentPayload,
  approvalPayload,
  approvalResolvedPayload,
  liveLedgerPayload,
  questionPayload,
  questionResolvedPayload,
  replayPayload,
  sseFrame,
  type ChatPayload,
} from "./chat-events.js";

/** Newest ledger rows replayed on connect. */
export const CHAT_REPLAY_EVENTS = 50;

export interface ChatStreamDeps {
  hub: EventHub;
  agents: Pick<AgentManager, "get">;
  conversations: { snapshotInFlight(agentId: string): TurnCatchUpSnapshot[] };
  ledger: Pick<LedgerRepository, "newestInConversation">;
  approvals: { listPending(agentId?: string): Promise<ToolApproval[]> };
  questions: { listPending(agentId?: string): Promise<UserQuestion[]> };
  clock: Clock;
  log: Logger;
  /** The hub queue bound of one stream (1 024 by default). */
  maxQueue: number;
}

/** Where frames go; `closed` resolves when the browser left. */
export interface ChatSink {
  write(frame: string): Promise<void>;
  end(last?: string): void;
  readonly isClosed: boolean;
  readonly closed: Promise<void>;
}

export const OVERFLOW_PAYLOAD = { content: "stream overflow", reason: "slow_consumer" } as const;

/** Streams until the browser leaves, the subscription overflows or `signal` aborts (shutdown). */
export async function runChatStream(deps: ChatStreamDeps, agentId: string, sink: ChatSink, signal: AbortSignal): Promise<void> {
  const sub = deps.hub.subscribe(agentId, { maxQueue: deps.maxQueue, kind: "webchat" });
  const turns = deps.conversations.snapshotInFlight(agentId);
  const stop = () => sub.close();
  signal.addEventListener("abort", stop);
  void sink.closed.then(stop);
  const now = () => isoTimestamp(deps.clock.now());
  const send = (payload: ChatPayload) => sink.write(sseFrame(payload));
  const shownApprovals = new Set<string>();
  const shownQuestions = new Set<string>();
  try {
    const info = deps.agents.get(agentId);
    await send({ type: "connected", timestamp: now(), agent_id: agentId, state: info === undefined ? "offline" : info.state === "busy" ? "busy" : "idle" });

    const history = await deps.ledger.newestInConversation(agentId, CHAT_REPLAY_EVENTS);
    let replayedUpTo = 0;
    for (const event of history) {
      replayedUpTo = Math.max(replayedUpTo, event.seq);
      const payload = replayPayload(event);
      if (payload) await send(payload);
    }

    for (const turn of turns) {
      let joined: ChatPayload | undefined;
      const flush = async () => {
        if (joined) await send(joined);
        joined = undefined;
      };
      for (const item of turn.items) {
        const payload = agentPayload(turn.requestId, item.at, item.event);
        if (payload === undefined) continue;
        if ((payload.type === "text" || payload.type === "thinking") && joined?.type === payload.type) {
          joined = { ...joined, content: `${String(joined.content)}${String(payload.content)}` };
          continue;
        }
        await flush();
        if (payload.type === "text" || payload.type === "thinking") joined = payload;
        else await send(payload);
      }
      await flush();
    }

    for (const approval of await deps.approvals.listPending(agentId)) {
      shownApprovals.add(approval.id);
      await send(approvalPayload(approval, approval.createdAt));
    }
    for (const question of await deps.questions.listPending(agentId)) {
      shownQuestions.add(question.questionId);
      await send(questionPayload(question, question.createdAt));
    }
    await send({ type: "history_end", timestamp: now(), count: history.length });

    const live = (event: HubEvent): ChatPayload | undefined => {
      switch (event.kind) {
        case "ledger":
          return event.event.seq <= replayedUpTo ? undefined : liveLedgerPayload(event.event);
        case "agent":
          return agentPayload(event.requestId, event.at, event.event);
        case "approval":
          if (shownApprovals.has(event.approval.id)) return undefined;
          shownApprovals.add(event.approval.id);
          return approvalPayload(event.approval, event.at);
        case "approval_resolved":
          return approvalResolvedPayload(event.approval, event.at);
        case "question":
          if (shownQuestions.has(event.question.questionId)) return undefined;
          shownQuestions.add(event.question.questionId);
          return questionPayload(event.question, event.at);
        case "question_resolved":
          return questionResolvedPayload(event.question, event.at);
      }
    };
    for await (const event of sub) {
      if (sink.isClosed) break;
      const payload = live(event);
      if (payload) await send(payload);
    }
    const end = await sub.ended;
    if (end.reason === "slow_consumer" && !sink.isClosed) {
      sink.end(sseFrame({ type: "error", timestamp: now(), ...OVERFLOW_PAYLOAD }));
    }
  } catch (cause) {
    deps.log.error("chat stream failed", { agent_id: agentId, cause });
    if (!sink.isClosed) sink.end(sseFrame({ type: "error", timestamp: now(), content: "internal error" }));
  } finally {
    signal.removeEventListener("abort", stop);
    sub.close();
    sink.end();
  }
}
