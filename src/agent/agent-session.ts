// ABOUTME: Runs one AgentStream from its first frame: registration, Welcome, then the receive loop.
// ABOUTME: Owns the heartbeat deadline and maps how the stream ended to the disconnect procedure.
import type { AgentConnection } from "./agent-connection.js";
import type { AgentStreamIo, InboundFrame, RegisterFrame, StreamEnd } from "./agent-frames.js";
import type { StreamPrincipal } from "./agent-ports.js";
import { describeError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";

/** How registration steps 2–5 (agent-stream.md §2) ended; a refused stream was already ended by the registrar. */
export type RegistrationResult = { kind: "registered"; connection: AgentConnection } | { kind: "refused" };

/** What a session needs from whoever routes connections (the AgentManager), as plain callbacks. */
export interface AgentSessionOptions {
  register(frame: RegisterFrame, io: AgentStreamIo, principal: StreamPrincipal): Promise<RegistrationResult>;
  /** Every frame of a registered connection (presence `last_seen`). */
  frameReceived(connection: AgentConnection): void;
  /** Runs one `execute_pack_tool` off the receive loop. */
  runPackTool(connection: AgentConnection, frame: Extract<InboundFrame, { kind: "execute_pack_tool" }>): void;
  /** Milliseconds since the epoch; the heartbeat deadline is measured with it. */
  now(): number;
  io: AgentStreamIo;
  principal: StreamPrincipal;
  log: Logger;
  heartbeatTimeoutMs: number;
  /** Called once when the session has ended, however it ended. */
  onEnded?: () => void;
  /** Called once when the stream ended before its Welcome was queued (ops.md §1.3 `outcome="rejected"`). */
  onRefused?: () => void;
}

/**
 * The receiving side of one stream. The rpc edge feeds it every decoded frame and tells it how input ended.
 * Frames that arrive while registration is still running are buffered and replayed in order.
 */
export class AgentSession {
  #host: Pick<AgentSessionOptions, "register" | "frameReceived" | "runPackTool" | "now">;
  #io: AgentStreamIo;
  #principal: StreamPrincipal;
  #log: Logger;
  #heartbeatTimeoutMs: number;
  #phase: "awaiting_register" | "registering" | "open" | "ended" = "awaiting_register";
  #buffered: InboundFrame[] = [];
  #connection: AgentConnection | undefined;
  #heartbeatSeen = false;
  #lastFrameAt = 0;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #inputEnd: StreamEnd | undefined;
  #onEnded: (() => void) | undefined;
  #onRefused: (() => void) | undefined;

  constructor(options: AgentSessionOptions) {
    this.#onEnded = options.onEnded;
    this.#onRefused = options.onRefused;
    this.#host = options;
    this.#io = options.io;
    this.#principal = options.principal;
    this.#log = options.log;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs;
  }

  /** Handles one decoded frame from the agent. */
  receive(frame: InboundFrame): void {
    switch (this.#phase) {
      case "ended":
        return;
      case "awaiting_register":
        this.#startRegistration(frame);
        return;
      case "registering":
        this.#buffered.push(frame);
        return;
      case "open":
        this.#handle(frame);
    }
  }

  /** The agent half-closed its side: the stream ends OK (the reason is what the disconnect log says). */
  endOfInput(): void {
    this.#finishInput({ code: "OK", message: "agent closed the stream" });
  }

  /** Reading failed: the stream ends INTERNAL with the detail. */
  receiveError(err: unknown): void {
    const prefix = this.#phase === "awaiting_register" ? "receiving first message" : "receiving message";
    this.#finishInput({ code: "INTERNAL", message: `${prefix}: ${describeError(err)}` });
  }

  /** The principal id the stream authenticated as. */
  get principalId(): string {
    return this.#principal.id;
  }

  /**
   * Ends the session from the gateway side (revocation, deletion) whatever its phase; a registered connection
   * runs the full disconnect procedure.
   */
  terminate(end: StreamEnd): void {
    if (this.#phase === "ended") return;
    if (this.#phase === "registering") {
      this.#inputEnd = end;
      return;
    }
    this.#end(end);
  }

  /** The call was cancelled: the agent reset it or its connection died (killed process, network): nothing can be sent. */
  cancelled(): void {
    this.#finishInput({ code: "CANCELED", message: "connection lost or stream cancelled by the agent" });
  }

  #finishInput(end: StreamEnd): void {
    if (this.#phase === "ended") return;
    if (this.#phase === "registering") {
      this.#inputEnd = end;
      return;
    }
    this.#end(end);
  }

  #end(end: StreamEnd): void {
    this.#phase = "ended";
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    if (this.#connection === undefined) this.#onRefused?.();
    try {
      if (this.#connection) this.#connection.close(end);
      else this.#io.end(end);
    } finally {
      this.#onEnded?.();
    }
  }

  #startRegistration(frame: InboundFrame): void {
    if (frame.kind !== "register") {
      this.#end({ code: "INVALID_ARGUMENT", message: "first message must be RegisterAgent" });
      return;
    }
    if (frame.agentId === "") {
      this.#end({ code: "INVALID_ARGUMENT", message: "agent_id is required" });
      return;
    }
    this.#phase = "registering";
    this.#register(frame).catch((err: unknown) => {
      this.#log.error("agent registration failed", { agent_id: frame.agentId, cause: err });
      this.#end({ code: "INTERNAL", message: "internal error" });
    });
  }

  async #register(frame: RegisterFrame): Promise<void> {
    const result = await this.#host.register(frame, this.#io, this.#principal);
    if (result.kind === "refused") {
      this.#phase = "ended";
      this.#onRefused?.();
      this.#onEnded?.();
      return;
    }
    this.#connection = result.connection;
    this.#phase = "open";
    const buffered = this.#buffered;
    this.#buffered = [];
    for (const next of buffered) {
      if (this.#phase !== "open") return;
      this.#handle(next);
    }
    if (this.#inputEnd && this.#phase === "open") this.#end(this.#inputEnd);
  }

  #handle(frame: InboundFrame): void {
    const connection = this.#connection;
    if (!connection || connection.isClosed) return;
    this.#touch(frame.kind === "heartbeat");
    switch (frame.kind) {
      case "response":
        connection.deliver(frame.requestId, frame.event);
        return;
      case "heartbeat":
        connection.heartbeatReceived(new Date(this.#host.now()));
        return;
      case "injection_ack":
        connection.acknowledgeInjection(frame.injectionId, frame.accepted, frame.reason);
        return;
      case "execute_pack_tool":
        this.#host.runPackTool(connection, frame);
        return;
      case "register":
        this.#log.warn("duplicate register frame ignored", { agent_id: connection.agentId });
        return;
      case "empty":
        this.#log.debug("agent frame without payload ignored", { agent_id: connection.agentId });
        return;
    }
  }

  #touch(isHeartbeat: boolean): void {
    const connection = this.#connection;
    if (connection) this.#host.frameReceived(connection);
    if (isHeartbeat) this.#heartbeatSeen = true;
    if (!this.#heartbeatSeen) return;
    this.#lastFrameAt = this.#host.now();
    if (!this.#heartbeatTimer) this.#armHeartbeat(this.#heartbeatTimeoutMs);
  }

  /** One timer per stream, re-armed lazily: cheap even when every text chunk counts as liveness. */
  #armHeartbeat(delayMs: number): void {
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = undefined;
      if (this.#phase !== "open") return;
      const idle = this.#host.now() - this.#lastFrameAt;
      if (idle >= this.#heartbeatTimeoutMs) {
        this.#log.warn("agent heartbeat timeout", { agent_id: this.#connection?.agentId });
        this.#end({ code: "UNAVAILABLE", message: "heartbeat timeout", closeReason: "heartbeat_timeout" });
        return;
      }
      this.#armHeartbeat(this.#heartbeatTimeoutMs - idle);
    }, delayMs);
    this.#heartbeatTimer.unref?.();
  }
}
