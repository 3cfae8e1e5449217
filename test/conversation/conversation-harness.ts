// ABOUTME: Test harness for the conversation domain: a real migrated SQLite file, the real AgentManager and hub,
// ABOUTME: and in-process fake agents driven through openSession with an AgentStreamIo that records written frames.
import type { AgentEvent } from "../../src/agent/agent-events.js";
import type { AgentStreamIo, OutboundFrame, StreamEnd } from "../../src/agent/agent-frames.js";
import { AgentManager } from "../../src/agent/agent-manager.js";
import { createApprovalService, type ApprovalService } from "../../src/conversation/approval-service.js";
import { ConversationService } from "../../src/conversation/conversation-service.js";
import { EventHub } from "../../src/conversation/event-hub.js";
import { openEventStream, type EventStream, type EventStreamItem } from "../../src/conversation/event-stream.js";
import { createQuestionRouter, type QuestionRouter } from "../../src/conversation/question-router.js";
import type { Clock } from "../../src/lib/clock.js";
import { randomIds } from "../../src/lib/ids.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createLedgerRepository, type LedgerRepository } from "../../src/store/ledger-repository.js";
import { createUsageRepository } from "../../src/store/usage-repository.js";
import type { StoreDatabase } from "../../src/store/database.js";

/** Lets pending promise chains (SQLite through Kysely, the turn pump) run until `check` holds. */
export async function until(check: () => boolean | Promise<boolean>, what = "condition"): Promise<void> {
  for (let i = 0; i < 2000; i += 1) {
    if (await check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An in-process agent stream: records every frame the gateway writes and feeds frames in. */
export class FakeAgent {
  readonly frames: OutboundFrame[] = [];
  ended: StreamEnd | undefined;
  /** When set, every write fails as a broken transport would. */
  failWrites = false;
  readonly agentId: string;
  #session: ReturnType<AgentManager["openSession"]>;

  constructor(agents: AgentManager, agentId: string, principalId = `p-${agentId}`) {
    this.agentId = agentId;
    const io: AgentStreamIo = {
      write: async (frame) => {
        if (this.ended) throw new Error("stream ended");
        if (this.failWrites) throw new Error("broken pipe");
        this.frames.push(frame);
      },
      pause: () => {},
      resume: () => {},
      end: (status) => {
        this.ended ??= status;
      },
      peer: "test",
    };
    this.#session = agents.openSession(io, { id: principalId, isAnonymous: false });
  }

  async register(): Promise<void> {
    this.#session.receive({
      kind: "register",
      agentId: this.agentId,
      name: this.agentId,
      capabilities: [],
      protocolFeatures: [],
      metadata: { workingDirectory: "/w", hostname: "h", os: "linux", workspaces: [], backend: "test", git: undefined },
    });
    await until(() => this.frames.some((f) => f.kind === "welcome"), "welcome");
  }

  respond(requestId: string, event: AgentEvent): void {
    this.#session.receive({ kind: "response", requestId, event });
  }

  /** The request ids of every send_message written to this agent, in order. */
  requestIds(): string[] {
    return this.frames.flatMap((f) => (f.kind === "send_message" ? [f.requestId] : []));
  }

  approvalFrames(): Array<Extract<OutboundFrame, { kind: "tool_approval" }>> {
    return this.frames.flatMap((f) => (f.kind === "tool_approval" ? [f] : []));
  }

  disconnect(): void {
    this.#session.endOfInput();
  }
}

export interface Domain {
  agents: AgentManager;
  hub: EventHub;
  ledger: LedgerRepository;
  approvals: ApprovalService;
  questions: QuestionRouter;
  conversations: ConversationService;
  openStream(conversationKey: string, sinceEventId?: string, options?: { maxQueue?: number; idleTimeoutMs?: number }): EventStream;
  close(): void;
}

/** Builds the conversation domain over an open database, the way the composition root wires it. */
export function buildDomain(store: StoreDatabase, clock: Clock, options: { approvalTimeoutMs?: number } = {}): Domain {
  const db = store.db;
  const log = silentLogger;
  const agents = new AgentManager({
    serverId: "coven-gateway-1",
    mcpEndpoint: () => "http://localhost/mcp",
    heartbeatTimeoutMs: 90_000,
    limits: { requestQueueHigh: 256, requestQueueLow: 64, cancelGraceMs: 10_000, injectionTimeoutMs: 30_000 },
    log,
    now: () => clock.now(),
  });
  const hub = new EventHub();
  const ledger = createLedgerRepository(db, clock, randomIds, store.writes);
  const approvals = createApprovalService({ db, agents, hub, clock, ids: randomIds, log, timeoutMs: options.approvalTimeoutMs });
  const questions = createQuestionRouter({ db, hub, clock, ids: randomIds, log });
  const conversations = new ConversationService({
    db,
    writes: store.writes,
    ledger,
    usage: createUsageRepository(db),
    agents,
    hub,
    clock,
    ids: randomIds,
    log,
    approvals,
  });
  return {
    agents,
    hub,
    ledger,
    approvals,
    questions,
    conversations,
    openStream: (conversationKey, sinceEventId, streamOptions = {}) =>
      openEventStream(
        { ledger, hub, inFlight: conversations, approvals, questions, log, idleTimeoutMs: 0, ...streamOptions },
        { conversationKey, sinceEventId },
      ),
    close: () => {
      approvals.stop();
    },
  };
}

/** Sends a message to `agentId` through the turn pipeline and returns the request id the agent received. */
export async function startTurn(domain: Domain, agent: FakeAgent, content = "hello"): Promise<{ requestId: string; messageId: string; finished: Promise<void> }> {
  const result = await domain.conversations.send({
    agentId: agent.agentId,
    thread: { frontendName: "client", externalId: agent.agentId },
    sender: "client",
    content,
    actorPrincipalId: "client-1",
  });
  if (result.status !== "accepted") throw new Error("expected an accepted send");
  return { requestId: result.requestId, messageId: result.messageId, finished: result.finished };
}

/** Reads items from a stream iterator until `count` were read (or the stream ended). */
export async function take(iterator: AsyncIterator<EventStreamItem>, count: number): Promise<EventStreamItem[]> {
  const out: EventStreamItem[] = [];
  while (out.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

/** A short label per item, for readable assertions. */
export function describeItem(item: EventStreamItem): string {
  if (item.kind === "end") return `end:${item.reason}`;
  const p = item.payload;
  switch (p.kind) {
    case "event":
      return `event:${p.event.type}:${p.event.text ?? ""}`;
    case "text":
    case "thinking":
      return `${p.kind}:${p.content}`;
    case "done":
      return `done:${p.fullResponse}`;
    case "error":
      return `error:${p.message}:${p.recoverable}`;
    case "tool_approval":
      return `tool_approval:${p.toolId}`;
    case "user_question":
      return `user_question:${p.question.question}`;
    case "tool_use":
    case "tool_result":
    case "tool_state":
      return `${p.kind}:${p.id}`;
    case "usage":
      return "usage";
  }
}
