// ABOUTME: Test double for the transport side of an agent stream: records what the gateway writes, feeds frames in.
// ABOUTME: Drives the real AgentManager through openSession, so HTTP tests exercise the real agent domain.
import type { AgentEvent } from "../../../src/agent/agent-events.js";
import type { AgentStreamIo, OutboundFrame, StreamEnd } from "../../../src/agent/agent-frames.js";
import type { AgentManager } from "../../../src/agent/agent-manager.js";

type SendMessageFrame = Extract<OutboundFrame, { kind: "send_message" }>;

export interface FakeAgentOptions {
  agentId: string;
  /** The stream's authenticated principal; the built-in `anonymous` when unset. */
  principalId?: string;
  name?: string;
  capabilities?: string[];
  protocolFeatures?: string[];
  workingDir?: string;
  workspaces?: string[];
  backend?: string;
  /** Makes writes of this frame kind reject (a broken transport). */
  failWritesOf?: OutboundFrame["kind"];
}

/** One fake agent connected through the real AgentManager. */
export class FakeAgent {
  readonly frames: OutboundFrame[] = [];
  ended: StreamEnd | undefined;
  #session: ReturnType<AgentManager["openSession"]>;
  #waiters: Array<() => void> = [];
  #seenSendMessages = 0;

  private constructor(manager: AgentManager, options: FakeAgentOptions) {
    const io: AgentStreamIo = {
      peer: "127.0.0.1:1",
      write: async (frame) => {
        if (options.failWritesOf === frame.kind) throw new Error("transport broken");
        this.frames.push(frame);
        this.#notify();
      },
      pause: () => {},
      resume: () => {},
      end: (status) => {
        this.ended = status;
        this.#notify();
      },
    };
    const principal =
      options.principalId === undefined ? { id: "anonymous", isAnonymous: true } : { id: options.principalId, isAnonymous: false };
    this.#session = manager.openSession(io, principal);
  }

  /** Opens a session, registers, and resolves once the Welcome was written (the agent is routable). */
  static async connect(manager: AgentManager, options: FakeAgentOptions): Promise<FakeAgent> {
    const agent = new FakeAgent(manager, options);
    agent.#session.receive({
      kind: "register",
      agentId: options.agentId,
      name: options.name ?? options.agentId,
      capabilities: options.capabilities ?? [],
      protocolFeatures: options.protocolFeatures ?? [],
      metadata: {
        workingDirectory: options.workingDir ?? "",
        hostname: "host",
        os: "linux",
        workspaces: options.workspaces ?? [],
        backend: options.backend ?? "",
        git: undefined,
      },
    });
    await agent.waitFor(() => agent.frames.some((f) => f.kind === "welcome"));
    return agent;
  }

  /** The next `send_message` not returned before. */
  async nextSendMessage(): Promise<SendMessageFrame> {
    const index = this.#seenSendMessages;
    await this.waitFor(() => this.#sendMessages().length > index);
    this.#seenSendMessages += 1;
    return this.#sendMessages()[index] as SendMessageFrame;
  }

  /** Feeds one response event for a request, as if read from the stream. */
  respond(requestId: string, event: AgentEvent): void {
    this.#session.receive({ kind: "response", requestId, event });
  }

  /** The agent half-closes its stream (disconnect). */
  disconnect(): void {
    this.#session.endOfInput();
  }

  /** Resolves once `predicate` holds (checked after every recorded write); fails after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        reject(new Error("timed out waiting for agent frames"));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve();
      };
      this.#waiters.push(check);
    });
  }

  #sendMessages(): SendMessageFrame[] {
    return this.frames.filter((f): f is SendMessageFrame => f.kind === "send_message");
  }

  #notify(): void {
    for (const check of [...this.#waiters]) check();
  }
}
