// ABOUTME: The topics of one WS connection (ws.md §6): agent conversations with replay, catch-up and gap-free live,
// ABOUTME: plus presence, approvals and questions. Live messages go through the connection's one bounded queue.
import type { AgentEvent } from "../agent/agent-events.js";
import { agentListing } from "../agent/agent-listing.js";
import { streamCloseReason } from "../agent/stream-close-reason.js";
import { agentEventData, userQuestionData } from "../conversation/agent-event-data.js";
import type { HubEvent } from "../conversation/event-hub.js";
import { pendingApprovalJson, pendingQuestionJson } from "../conversation/pending-json.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { LedgerEvent } from "../store/ledger-repository.js";
import type { WsDeps } from "./ws-deps.js";
import { approvalActivityData, approvalResolvedJson, ledgerEventJson, questionResolvedJson } from "./ws-json.js";

const REPLAY_NEWEST = 50;
const RESUME_PAGE = 100;

/** One outbound topic event; `undefined` from a builder means "nothing to write" (no seq consumed). */
export interface TopicEvent {
  event: string;
  payload: Record<string, unknown>;
}

/** What the topics need of their connection. */
export interface TopicOutlet {
  /** Queues a live message of `topic`; the builder runs when the message reaches the socket. */
  enqueue(topic: string, build: () => TopicEvent | undefined): void;
  /** Drops the queued messages of `topic` (unsubscribe): they consume no seq. */
  discardQueued(topic: string): void;
  /** Holds the topic queue (a subscribe is being answered or a replay runs); `release` lets it drain again. */
  holdQueue(): () => void;
  waitWritable(): Promise<boolean>;
  writeEvent(event: string, payload: Record<string, unknown>, topic: string): void;
}

interface Subscription {
  close(): void;
  isClosed: boolean;
}

/** The answer of a subscribe: the `res` payload and what runs right after it was written. */
export interface SubscribeAnswer {
  payload: Record<string, unknown>;
  afterResponse: () => void;
}

type TopicDeps = Pick<WsDeps, "hub" | "ledger" | "conversations" | "agents" | "approvals" | "questions" | "log" | "ops">;

/** The subscriptions of one connection. */
export class WsTopics {
  #deps: TopicDeps;
  #outlet: TopicOutlet;
  #maxSubscriptions: number;
  #subs = new Map<string, Subscription>();

  constructor(deps: TopicDeps, outlet: TopicOutlet, maxSubscriptions: number) {
    this.#deps = deps;
    this.#outlet = outlet;
    this.#maxSubscriptions = maxSubscriptions;
  }

  /** Whether this connection follows `agent:<agentId>` (it then counts as a question recipient). */
  get size(): number {
    return this.#subs.size;
  }

  /**
   * Runs the §6.1 checks and registers the subscription with its snapshot in one synchronous step (the async
   * pending lists of `approvals`/`questions` are read behind a held queue and de-duplicated against it).
   * Throws INVALID_ARGUMENT `unknown topic: <t>`, `since_event_id is only valid for agent topics`, ALREADY_EXISTS
   * `already subscribed: <t>`, FAILED_PRECONDITION `too many subscriptions`.
   */
  async subscribe(topic: string, sinceEventId: string | undefined): Promise<SubscribeAnswer> {
    const isAgent = topic.startsWith("agent:") && topic.length > "agent:".length;
    if (!isAgent && topic !== "presence" && topic !== "approvals" && topic !== "questions") {
      throw new GatewayError("INVALID_ARGUMENT", `unknown topic: ${topic}`);
    }
    if (!isAgent && sinceEventId !== undefined && sinceEventId !== "") {
      throw new GatewayError("INVALID_ARGUMENT", "since_event_id is only valid for agent topics");
    }
    if (this.#subs.has(topic)) throw new GatewayError("ALREADY_EXISTS", `already subscribed: ${topic}`);
    if (this.#subs.size >= this.#maxSubscriptions) throw new GatewayError("FAILED_PRECONDITION", "too many subscriptions");
    const release = this.#outlet.holdQueue();
    try {
      if (isAgent) return this.#subscribeAgent(topic, topic.slice("agent:".length), sinceEventId, release);
      if (topic === "presence") return this.#subscribePresence(topic, release);
      return await this.#subscribePending(topic, topic === "approvals" ? "approval" : "question", release);
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Throws NOT_FOUND `not subscribed: <topic>`. Queued messages of the topic are discarded. */
  unsubscribe(topic: string): void {
    const sub = this.#subs.get(topic);
    if (!sub) throw new GatewayError("NOT_FOUND", `not subscribed: ${topic}`);
    this.#end(topic, sub);
  }

  closeAll(): void {
    for (const [topic, sub] of [...this.#subs]) this.#end(topic, sub);
  }

  #add(topic: string, sub: Subscription): void {
    this.#subs.set(topic, sub);
    this.#deps.ops?.subscribers(1);
  }

  #end(topic: string, sub: Subscription): void {
    sub.isClosed = true;
    sub.close();
    if (this.#subs.delete(topic)) this.#deps.ops?.subscribers(-1);
    this.#outlet.discardQueued(topic);
  }

  #subscribePresence(topic: string, release: () => void): SubscribeAnswer {
    const { agents } = this.#deps;
    // Streams announced to this subscriber (the snapshot, then `connected`): the registering → idle step before
    // `connected` is not an idle ⇄ busy change, and a stream refused before it was routable never appeared.
    const announced = new Set<string>();
    const stop = agents.onChange((kind, info, end) => {
      if (kind === "connected") announced.add(info.instanceId);
      else if (!announced.has(info.instanceId)) return;
      if (kind === "disconnected") announced.delete(info.instanceId);
      this.#outlet.enqueue(topic, () => ({
        event: "presence",
        payload:
          kind === "disconnected"
            ? { kind, agent: { ...agentListing(info), state: "offline" }, reason: streamCloseReason(end) }
            : { kind, agent: agentListing(info) },
      }));
    });
    const listed = agents.list();
    for (const info of listed) announced.add(info.instanceId);
    const snapshot = listed.map(agentListing);
    this.#add(topic, { close: stop, isClosed: false });
    return { payload: { topic, agents: snapshot }, afterResponse: release };
  }

  async #subscribePending(topic: string, kind: "approval" | "question", release: () => void): Promise<SubscribeAnswer> {
    const { hub, approvals, questions } = this.#deps;
    // Raised before the listing was read: in the listing, and skipped in the queue.
    const listed = new Set<string>();
    const stop = hub.listen(undefined, (event: HubEvent) => {
      if (kind === "approval" && event.kind === "approval") {
        const id = event.approval.id;
        this.#outlet.enqueue(topic, () => (listed.has(id) ? undefined : { event: "approval", payload: { kind: "raised", approval: pendingApprovalJson(event.approval) } }));
      } else if (kind === "approval" && event.kind === "approval_resolved") {
        this.#outlet.enqueue(topic, () => ({ event: "approval", payload: approvalResolvedJson(event.approval) }));
      } else if (kind === "question" && event.kind === "question") {
        const id = event.question.questionId;
        this.#outlet.enqueue(topic, () => (listed.has(id) ? undefined : { event: "question", payload: { kind: "raised", question: pendingQuestionJson(event.question) } }));
      } else if (kind === "question" && event.kind === "question_resolved") {
        this.#outlet.enqueue(topic, () => ({ event: "question", payload: questionResolvedJson(event.question) }));
      }
    });
    // A `questions` subscriber is an `ask_user` recipient of every agent (ws.md §6.3).
    const unwatch = kind === "question" ? questions.addAllAgentsWatcher() : () => undefined;
    const sub: Subscription = {
      close: () => {
        stop();
        unwatch();
      },
      isClosed: false,
    };
    this.#add(topic, sub);
    try {
      if (kind === "approval") {
        const pending = await approvals.listPending();
        for (const a of pending) listed.add(a.id);
        return { payload: { topic, approvals: pending.map(pendingApprovalJson) }, afterResponse: release };
      }
      const pending = await questions.listPending();
      for (const q of pending) listed.add(q.questionId);
      return { payload: { topic, questions: pending.map(pendingQuestionJson) }, afterResponse: release };
    } catch (err) {
      this.#end(topic, sub);
      throw err;
    }
  }

  #subscribeAgent(topic: string, agentId: string, sinceEventId: string | undefined, release: () => void): SubscribeAnswer {
    const { hub, conversations, questions } = this.#deps;
    const shownApprovals = new Set<string>();
    const shownQuestions = new Set<string>();
    let replayedUpTo = 0;
    const live = (event: HubEvent): TopicEvent | undefined => {
      switch (event.kind) {
        case "ledger":
          return event.event.seq <= replayedUpTo ? undefined : { event: "ledger", payload: { event: ledgerEventJson(event.event) } };
        case "agent":
          if (event.event.kind === "tool_approval") {
            const key = `${event.requestId}\u0000${event.event.id}`;
            if (shownApprovals.has(key)) return undefined;
            shownApprovals.add(key);
          }
          return { event: "activity", payload: activity(event.requestId, event.event) };
        case "approval": {
          const key = `${event.approval.requestId}\u0000${event.approval.toolId}`;
          if (shownApprovals.has(key)) return undefined;
          shownApprovals.add(key);
          return { event: "activity", payload: { request_id: event.requestId, kind: "tool_approval", data: approvalActivityData(event.approval) } };
        }
        case "approval_resolved":
          shownApprovals.delete(`${event.approval.requestId}\u0000${event.approval.toolId}`);
          return undefined;
        case "question":
          if (shownQuestions.has(event.question.questionId)) return undefined;
          shownQuestions.add(event.question.questionId);
          return { event: "activity", payload: { kind: "user_question", data: userQuestionData(event.question) } };
        case "question_resolved":
          return undefined;
      }
    };
    // One synchronous step: listener, in-flight snapshot, recipient registration.
    const stopListening = hub.listen(agentId, (event) => this.#outlet.enqueue(topic, () => live(event)));
    const turns = conversations.snapshotInFlight(agentId);
    const removeRecipient = questions.addRecipient(agentId, { deliverQuestion: () => undefined });
    const sub: Subscription = {
      close: () => {
        stopListening();
        removeRecipient();
      },
      isClosed: false,
    };
    this.#add(topic, sub);

    const replay = async (): Promise<void> => {
      const { ledger, approvals, log } = this.#deps;
      const write = async (event: string, payload: Record<string, unknown>): Promise<boolean> => {
        if (sub.isClosed || !(await this.#outlet.waitWritable()) || sub.isClosed) return false;
        this.#outlet.writeEvent(event, payload, topic);
        return true;
      };
      let replayed = 0;
      let lastEventId: string | null = null;
      const writeLedger = async (event: LedgerEvent): Promise<boolean> => {
        replayedUpTo = Math.max(replayedUpTo, event.seq);
        lastEventId = event.eventId;
        replayed += 1;
        return write("ledger", { event: ledgerEventJson(event), replay: true });
      };
      try {
        const since = sinceEventId ? await ledger.findByEventId(sinceEventId, agentId) : undefined;
        if (since) {
          replayedUpTo = since.seq;
          lastEventId = since.eventId;
          for (;;) {
            const page = await ledger.listConversationAfterSeq(agentId, replayedUpTo, RESUME_PAGE);
            for (const event of page) if (!(await writeLedger(event))) return;
            if (page.length < RESUME_PAGE) break;
          }
        } else {
          for (const event of await ledger.newestInConversation(agentId, REPLAY_NEWEST)) if (!(await writeLedger(event))) return;
        }
        for (const turn of turns) {
          for (const item of turn.items) {
            if (!(await write("activity", { ...activity(turn.requestId, item.event), replay: true }))) return;
          }
        }
        const pendingApprovals = await approvals.listPending(agentId);
        const pendingQuestions = await questions.listPending(agentId);
        for (const approval of pendingApprovals) {
          shownApprovals.add(`${approval.requestId}\u0000${approval.toolId}`);
          const payload = { request_id: approval.requestId, kind: "tool_approval", data: approvalActivityData(approval), replay: true };
          if (!(await write("activity", payload))) return;
        }
        for (const question of pendingQuestions) {
          shownQuestions.add(question.questionId);
          if (!(await write("activity", { kind: "user_question", data: userQuestionData(question), replay: true }))) return;
        }
        await write("synced", { topic, replayed, resumed: since !== undefined, last_event_id: lastEventId });
      } catch (err) {
        log.error("ws topic replay failed", { topic, cause: err });
        if (sub.isClosed) return;
        this.#end(topic, sub);
        this.#outlet.writeEvent("unsubscribed", { topic, reason: "failed to fetch events" }, topic);
      }
    };
    return {
      payload: { topic },
      afterResponse: () => {
        replay()
          .catch((cause: unknown) => this.#deps.log.error("ws topic replay failed", { topic, cause }))
          .finally(release);
      },
    };
  }
}

/** An agent event as an `activity` payload (the shape of `run`, ws.md §6.2). */
function activity(requestId: string, event: AgentEvent): Record<string, unknown> {
  return { request_id: requestId, kind: event.kind, data: agentEventData(event) };
}
