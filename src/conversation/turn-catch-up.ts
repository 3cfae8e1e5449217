// ABOUTME: The in-flight catch-up state of one running turn: the transient events it produced so far, in order.
// ABOUTME: Lets a late subscriber (StreamEvents, web chat) see a turn from its start without storing chunks.
import type { AgentEvent, AgentProgressEvent } from "../agent/agent-events.js";

/** One transient event of a turn with the time the gateway received it. Adjacent text/thinking chunks are joined. */
export interface CatchUpItem {
  event: AgentProgressEvent;
  at: string;
}

/** What a late subscriber needs of one turn in flight. */
export interface TurnCatchUpSnapshot {
  requestId: string;
  /** The transient events so far (tool approvals excluded: those are listed from the store). */
  items: CatchUpItem[];
  /** Whether any `text` arrived, and the joined text so far: the final content if the turn ends with `done`. */
  hasText: boolean;
  text: string;
}

/** Accumulates one turn's transient events. Only the owner of the turn pipeline appends. */
export class TurnCatchUp {
  readonly requestId: string;
  #items: CatchUpItem[] = [];
  #hasText = false;
  #text = "";
  #ended = false;

  constructor(requestId: string) {
    this.requestId = requestId;
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  /** Adds one event as published to the hub; a terminal event ends the turn (it leaves every snapshot). */
  add(event: AgentEvent, at: string): void {
    if (this.#ended) return;
    switch (event.kind) {
      case "done":
      case "error":
      case "canceled":
        this.#ended = true;
        this.#items = [];
        return;
      case "tool_approval":
        return;
      case "text":
        this.#hasText = true;
        this.#text += event.text;
        this.#join(event, at);
        return;
      case "thinking":
        this.#join(event, at);
        return;
      case "file":
        // The bytes are never streamed to subscribers; keep only what they show.
        this.#items.push({ event: { ...event, data: new Uint8Array(0) }, at });
        return;
      default:
        this.#items.push({ event, at });
    }
  }

  /** A copy of the state so far. */
  snapshot(): TurnCatchUpSnapshot {
    return { requestId: this.requestId, items: this.#items.map((i) => ({ ...i })), hasText: this.#hasText, text: this.#text };
  }

  #join(event: Extract<AgentProgressEvent, { kind: "text" | "thinking" }>, at: string): void {
    const last = this.#items[this.#items.length - 1];
    if (last !== undefined && last.event.kind === event.kind) {
      last.event = { kind: event.kind, text: (last.event as typeof event).text + event.text };
      return;
    }
    this.#items.push({ event: { kind: event.kind, text: event.text }, at });
  }
}
