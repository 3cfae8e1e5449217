// ABOUTME: Knows which agents are connected and routes work to them: register, dispatch, cancel, approve, inject.
// ABOUTME: Also runs the graceful shutdown of every agent stream under one deadline.
import { randomUUID } from "node:crypto";
import { AgentConnection, type AgentInfo, type InjectionOutcome, type RequestHandle } from "./agent-connection.js";
import type { AgentTerminalEvent } from "./agent-events.js";
import type { AgentStreamIo, Attachment, InboundFrame, InjectionPriority, RegisterFrame, StreamEnd } from "./agent-frames.js";
import {
  emptyDirectory,
  emptyToolCatalog,
  noPackTools,
  noPresence,
  type AgentDirectory,
  type AgentStreamObserver,
  type PackToolExecutor,
  type PresenceTracker,
  type StreamPrincipal,
  type ToolCatalog,
} from "./agent-ports.js";
import { agentListingsJson } from "./agent-listing.js";
import { AgentSession, type RegistrationResult } from "./agent-session.js";
import { GatewayError } from "../lib/gateway-error.js";
import { newInstanceId } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";

export interface AgentManagerOptions {
  serverId: string;
  /** Computed after the HTTP listener is bound (config.md §5.1). */
  mcpEndpoint: () => string;
  heartbeatTimeoutMs: number;
  limits: { requestQueueHigh: number; requestQueueLow: number; cancelGraceMs: number; injectionTimeoutMs: number };
  log: Logger;
  now?: () => Date;
  tools?: ToolCatalog;
  packTools?: PackToolExecutor;
  presence?: PresenceTracker;
  directory?: AgentDirectory;
  /** Operations' counters of dropped events and backpressure pauses. */
  streamObserver?: AgentStreamObserver;
  /** How many disconnected agents keep a last-known record (agent-stream.md §13); the oldest go first. */
  maxDepartedAgents?: number;
}

/** How every agent stream the gateway's shutdown ends is closed. */
const SHUTDOWN_END: StreamEnd = { code: "UNAVAILABLE", message: "gateway shutting down", closeReason: "shutdown" };

/** Default of `maxDepartedAgents`. */
export const DEFAULT_MAX_DEPARTED_AGENTS = 1_000;

/** The last-known record of an agent whose stream closed (state `offline`, agent-stream.md §13). */
export interface DepartedAgent {
  info: AgentInfo;
  /** When its stream closed. */
  lastSeenAt: Date;
  /** How the stream ended (the StreamEnd message, e.g. `heartbeat timeout`). */
  endReason: string;
}

/** What an MCP token stands for while its agent stream is open. */
export interface McpTokenGrant {
  agentId: string;
  principalId: string;
  capabilities: readonly string[];
}

/** `end` is how the stream ended, on `disconnected` only. */
type ConnectionListener = (event: "connected" | "disconnected" | "state", info: AgentInfo, end?: StreamEnd) => void;

/** The registry of agent streams and the operations other domains use to reach agents. */
export class AgentManager {
  #options: AgentManagerOptions;
  #log: Logger;
  #now: () => Date;
  #tools: ToolCatalog;
  #packTools: PackToolExecutor;
  #presence: PresenceTracker;
  #directory: AgentDirectory;
  /** Live and registering connections by agent_id (registering ones count for duplicates, are not routable). */
  #byAgentId = new Map<string, AgentConnection>();
  /** The instance ids of the connections in `#byAgentId`, so a new one is checked unique in O(1). */
  #instanceIds = new Set<string>();
  /** `#byAgentId`'s connections sorted by name then id; dropped whenever that map changes, rebuilt on the next read. */
  #listOrder: AgentConnection[] | undefined;
  /** Last-known records of disconnected agents by agent_id, oldest first; dropped when the agent registers again. */
  #departed = new Map<string, DepartedAgent>();
  /** Connections that completed registration (only those leave a last-known record). */
  #registered = new WeakSet<AgentConnection>();
  #mcpTokens = new Map<string, McpTokenGrant>();
  #tokenOf = new Map<AgentConnection, string>();
  #streamsPerPrincipal = new Map<string, number>();
  /** Connections whose principal presence was counted (registered to the end), so only they are uncounted. */
  #counted = new WeakSet<AgentConnection>();
  #listeners = new Set<ConnectionListener>();
  #shuttingDown = false;
  #idleWaiters = new Set<() => void>();
  /** Every open session (registered or not) by principal id, so revocation reaches streams still registering. */
  #sessions = new Map<string, Set<AgentSession>>();

  constructor(options: AgentManagerOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#now = options.now ?? (() => new Date());
    this.#tools = options.tools ?? emptyToolCatalog;
    this.#packTools = options.packTools ?? noPackTools;
    this.#presence = options.presence ?? noPresence;
    this.#directory = options.directory ?? emptyDirectory;
  }

  get serverId(): string {
    return this.#options.serverId;
  }

  /** Starts handling one AgentStream whose caller was already authenticated. */
  openSession(io: AgentStreamIo, principal: StreamPrincipal): { receive(frame: InboundFrame): void; endOfInput(): void; receiveError(err: unknown): void; cancelled(): void } {
    if (this.#shuttingDown) {
      io.end(SHUTDOWN_END);
      return { receive: () => {}, endOfInput: () => {}, receiveError: () => {}, cancelled: () => {} };
    }
    let sessions = this.#sessions.get(principal.id);
    if (!sessions) {
      sessions = new Set();
      this.#sessions.set(principal.id, sessions);
    }
    const owned = sessions;
    const session: AgentSession = new AgentSession({
      register: (frame, sessionIo, sessionPrincipal) => this.#register(frame, sessionIo, sessionPrincipal),
      frameReceived: (connection) => this.#frameReceived(connection),
      runPackTool: (connection, frame) => this.#runPackTool(connection, frame),
      now: () => this.#now().getTime(),
      io,
      principal,
      log: this.#log,
      heartbeatTimeoutMs: this.#options.heartbeatTimeoutMs,
      onRefused: () => this.#options.streamObserver?.registrationRefused(),
      onEnded: () => {
        owned.delete(session);
        if (owned.size === 0 && this.#sessions.get(principal.id) === owned) this.#sessions.delete(principal.id);
      },
    });
    owned.add(session);
    return session;
  }

  /** Subscribes to connect/disconnect/state changes (web admin, tests). Returns the unsubscribe function. */
  onChange(listener: ConnectionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Registration steps 2–5 of agent-stream.md §2. On a duplicate agent_id the stream gets `registration_error`
   * and ends ALREADY_EXISTS. Returns the routable connection otherwise. Called by this manager's sessions.
   */
  async #register(frame: RegisterFrame, io: AgentStreamIo, principal: StreamPrincipal): Promise<RegistrationResult> {
    if (this.#shuttingDown) {
      io.end(SHUTDOWN_END);
      return { kind: "refused" };
    }
    if (this.#byAgentId.has(frame.agentId)) {
      const reason = `agent ${frame.agentId} already registered`;
      let n = 1;
      while (this.#byAgentId.has(`${frame.agentId}-${n}`)) n += 1;
      try {
        await io.write({ kind: "registration_error", reason, suggestedId: `${frame.agentId}-${n}` });
      } catch (err) {
        this.#log.debug("writing registration_error failed", { agent_id: frame.agentId, cause: err });
      }
      io.end({ code: "ALREADY_EXISTS", message: reason });
      return { kind: "refused" };
    }
    let instanceId = newInstanceId();
    while (this.#instanceIds.has(instanceId)) instanceId = newInstanceId();
    const connection = new AgentConnection({
      io,
      info: {
        agentId: frame.agentId,
        name: frame.name,
        instanceId,
        principalId: principal.id,
        capabilities: frame.capabilities,
        protocolFeatures: frame.protocolFeatures,
        workingDir: frame.metadata.workingDirectory,
        workspaces: frame.metadata.workspaces,
        backend: frame.metadata.backend,
        hostname: frame.metadata.hostname,
        os: frame.metadata.os,
        git: frame.metadata.git,
      },
      limits: this.#options.limits,
      log: this.#log,
      now: this.#now,
      onClosed: (conn, end) => this.#closed(conn, end, principal),
      onStateChange: (conn) => this.#emit("state", () => conn.snapshot()),
      ...(this.#options.streamObserver === undefined ? {} : { observer: this.#options.streamObserver }),
    });
    this.#byAgentId.set(frame.agentId, connection);
    this.#instanceIds.add(instanceId);
    this.#listOrder = undefined;
    const mcpToken = randomUUID();
    this.#mcpTokens.set(mcpToken, { agentId: frame.agentId, principalId: principal.id, capabilities: frame.capabilities });
    this.#tokenOf.set(connection, mcpToken);

    let secrets: Record<string, string> = {};
    try {
      secrets = await this.#directory.effectiveSecrets(frame.agentId);
    } catch (err) {
      this.#log.warn("loading secrets for agent failed; sending none", { agent_id: frame.agentId, cause: err });
    }
    // The stream may have been closed (revocation, shutdown) while the secrets were loading: no Welcome then.
    if (connection.isClosed) return { kind: "refused" };
    if (this.#shuttingDown) {
      connection.close(SHUTDOWN_END);
      return { kind: "refused" };
    }
    const availableTools = [...this.#tools.toolsFor(frame.capabilities)].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    const welcome = connection.write({
      kind: "welcome",
      serverId: this.#options.serverId,
      agentId: frame.agentId,
      instanceId,
      principalId: principal.id,
      availableTools,
      mcpToken,
      mcpEndpoint: this.#options.mcpEndpoint(),
      secrets,
    });
    // A failed Welcome write closes the connection as `sending welcome: <detail>` inside the writer.
    welcome.catch(() => {});
    connection.markReady();
    this.#registered.add(connection);
    this.#departed.delete(frame.agentId);
    if (!principal.isAnonymous) {
      this.#counted.add(connection);
      const count = (this.#streamsPerPrincipal.get(principal.id) ?? 0) + 1;
      this.#streamsPerPrincipal.set(principal.id, count);
      if (count === 1) this.#presence.streamOpened(principal.id);
      else this.#presence.streamTouched(principal.id);
      if (frame.capabilities.includes("leader")) {
        this.#directory.grantLeader(principal.id).catch((err: unknown) => {
          this.#log.warn("granting leader role failed", { principal_id: principal.id, cause: err });
        });
      }
    }
    this.#log.info("agent registered", {
      agent_id: frame.agentId,
      instance_id: instanceId,
      principal_id: principal.id,
      peer: io.peer,
    });
    this.#emit("connected", () => connection.snapshot());
    return { kind: "registered", connection };
  }

  /** Liveness bookkeeping for presence (`last_seen`), called by this manager's sessions. */
  #frameReceived(connection: AgentConnection): void {
    if (connection.info.principalId !== "anonymous") this.#presence.frameReceived(connection.info.principalId);
  }

  /** Runs one `execute_pack_tool` off the receive loop and writes exactly one reply (for this manager's sessions). */
  #runPackTool(connection: AgentConnection, frame: Extract<InboundFrame, { kind: "execute_pack_tool" }>): void {
    const controller = connection.trackCall();
    const call = {
      agentId: connection.agentId,
      principalId: connection.info.principalId,
      capabilities: connection.info.capabilities,
      requestId: frame.requestId,
      toolName: frame.toolName,
      inputJson: frame.inputJson,
    };
    this.#packTools
      .execute(call, controller.signal)
      .catch((err: unknown) => {
        this.#log.error("pack tool call failed", { agent_id: call.agentId, tool: call.toolName, cause: err });
        return { error: "internal error" } as const;
      })
      .then((result) => {
        connection.untrackCall(controller);
        if (controller.signal.aborted || connection.isClosed) return;
        connection.write({ kind: "pack_tool_result", requestId: frame.requestId, result }).catch(() => {});
      });
  }

  /** Connected, routable agents sorted by name then id. */
  list(): AgentInfo[] {
    const out: AgentInfo[] = [];
    for (const connection of this.#ordered()) if (connection.isRoutable) out.push(connection.snapshot());
    return out;
  }

  /**
   * `list()` as the JSON body of `GET /api/agents` (agent-listing.ts), keeping only agents tagged `workspace` when
   * it is given; built from cached per-connection bytes.
   */
  listingJson(workspace?: string): Buffer {
    return agentListingsJson(this.#routable(workspace));
  }

  *#routable(workspace: string | undefined): Generator<AgentConnection> {
    for (const connection of this.#ordered()) {
      if (!connection.isRoutable) continue;
      if (workspace === undefined || connection.info.workspaces.includes(workspace)) yield connection;
    }
  }

  #ordered(): AgentConnection[] {
    this.#listOrder ??= [...this.#byAgentId.values()].sort((a, b) =>
      a.info.name === b.info.name ? cmp(a.agentId, b.agentId) : cmp(a.info.name, b.info.name),
    );
    return this.#listOrder;
  }

  /** Disconnected agents still remembered (not connected again since), most recently departed first. */
  listDeparted(): DepartedAgent[] {
    return [...this.#departed.values()].reverse();
  }

  #remember(connection: AgentConnection, end: StreamEnd): void {
    const limit = this.#options.maxDepartedAgents ?? DEFAULT_MAX_DEPARTED_AGENTS;
    if (limit <= 0) return;
    this.#departed.delete(connection.agentId);
    this.#departed.set(connection.agentId, { info: { ...connection.snapshot(), state: "offline", pendingRequests: 0 }, lastSeenAt: this.#now(), endReason: end.message });
    while (this.#departed.size > limit) {
      const oldest = this.#departed.keys().next().value as string;
      this.#departed.delete(oldest);
    }
  }

  /** The routable connection with this agent_id, if any. */
  get(agentId: string): AgentInfo | undefined {
    const connection = this.#byAgentId.get(agentId);
    return connection?.isRoutable ? connection.snapshot() : undefined;
  }

  /** The routable connection with this instance id, if any. */
  findByInstanceId(instanceId: string): AgentInfo | undefined {
    for (const connection of this.#byAgentId.values()) {
      if (connection.isRoutable && connection.info.instanceId === instanceId) return connection.snapshot();
    }
    return undefined;
  }

  /** Number of connected (routable) agent streams. */
  get connectedCount(): number {
    let n = 0;
    for (const connection of this.#byAgentId.values()) if (connection.isRoutable) n += 1;
    return n;
  }

  /** Resolves an MCP token to its agent while the stream is open. */
  resolveMcpToken(token: string): McpTokenGrant | undefined {
    return this.#mcpTokens.get(token);
  }

  /**
   * Sends a message to a connected agent under `requestId`. Throws NOT_FOUND `agent not found` when no routable
   * connection has that id, UNAVAILABLE `agent unavailable` when the write fails or the gateway is stopping.
   */
  async dispatch(input: {
    agentId: string;
    requestId: string;
    threadId: string;
    sender: string;
    content: string;
    attachments?: Attachment[];
  }): Promise<RequestHandle> {
    if (this.#shuttingDown) throw new GatewayError("UNAVAILABLE", "gateway shutting down");
    const connection = this.#byAgentId.get(input.agentId);
    if (!connection?.isRoutable) throw new GatewayError("NOT_FOUND", "agent not found");
    return connection.dispatch({
      requestId: input.requestId,
      threadId: input.threadId,
      sender: input.sender,
      content: input.content,
      attachments: input.attachments ?? [],
    });
  }

  /** True while some connection has this request pending. */
  isPending(agentId: string, requestId: string): boolean {
    return this.#byAgentId.get(agentId)?.hasRequest(requestId) ?? false;
  }

  /**
   * Cancels a pending request (agent-stream.md §10). `explicit` is the cancel API; `client_gone` is a client that went
   * away. Returns false when the request is not pending.
   */
  cancel(agentId: string, requestId: string, reason: string, mode: "explicit" | "client_gone"): boolean {
    return this.#byAgentId.get(agentId)?.cancel(requestId, reason, mode) ?? false;
  }

  /** Writes a tool approval decision to an agent. Throws NOT_FOUND `agent not found`, UNAVAILABLE on write failure. */
  async sendToolApproval(agentId: string, toolId: string, approved: boolean, approveAll: boolean): Promise<void> {
    const connection = this.#byAgentId.get(agentId);
    if (!connection?.isRoutable) throw new GatewayError("NOT_FOUND", "agent not found");
    await connection.write({ kind: "tool_approval", id: toolId, approved, approveAll });
  }

  /**
   * Pushes context into an agent. Throws NOT_FOUND `agent not found`, FAILED_PRECONDITION `agent does not support
   * injection`.
   */
  async inject(
    agentId: string,
    content: string,
    priority: InjectionPriority = "normal",
    source?: string,
  ): Promise<InjectionOutcome & { injectionId: string }> {
    const connection = this.#byAgentId.get(agentId);
    if (!connection?.isRoutable) throw new GatewayError("NOT_FOUND", "agent not found");
    return connection.inject(content, priority, source);
  }

  /**
   * Closes every stream of a principal (revocation or deletion) with the given status, including streams that
   * authenticated but have not registered yet. Returns how many were ended.
   */
  closePrincipal(principalId: string, end: StreamEnd): number {
    const sessions = [...(this.#sessions.get(principalId) ?? [])];
    for (const session of sessions) session.terminate(end);
    return sessions.length;
  }

  /**
   * Graceful shutdown: refuse new work, tell every agent `shutdown`, wait up to `graceMs` for pending requests,
   * end the rest with `gateway shutting down`, then close every stream UNAVAILABLE.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.#shuttingDown = true;
    const connections = [...this.#byAgentId.values()];
    for (const connection of connections) {
      connection.markShuttingDown();
      connection.write({ kind: "shutdown", reason: "gateway shutting down" }).catch(() => {});
    }
    await this.#waitForIdle(graceMs);
    const terminal: AgentTerminalEvent = { kind: "error", error: "gateway shutting down", origin: "gateway" };
    for (const connection of [...this.#byAgentId.values()]) {
      connection.endAllRequests(terminal);
      connection.close(SHUTDOWN_END);
    }
    // Streams that authenticated but never registered are ended too, with the same status.
    for (const sessions of [...this.#sessions.values()]) for (const session of [...sessions]) session.terminate(SHUTDOWN_END);
  }

  #waitForIdle(graceMs: number): Promise<void> {
    const busy = () => [...this.#byAgentId.values()].some((c) => !c.isClosed && c.pendingCount > 0);
    if (!busy()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!busy()) done();
      };
      const done = () => {
        clearTimeout(timer);
        this.#idleWaiters.delete(check);
        resolve();
      };
      const timer = setTimeout(done, graceMs);
      this.#idleWaiters.add(check);
    });
  }

  #closed(connection: AgentConnection, end: StreamEnd, principal: StreamPrincipal): void {
    if (this.#byAgentId.get(connection.agentId) === connection) {
      this.#byAgentId.delete(connection.agentId);
      this.#instanceIds.delete(connection.info.instanceId);
      this.#listOrder = undefined;
      if (this.#registered.has(connection)) this.#remember(connection, end);
    }
    const token = this.#tokenOf.get(connection);
    if (token) this.#mcpTokens.delete(token);
    this.#tokenOf.delete(connection);
    if (this.#counted.delete(connection)) {
      const count = (this.#streamsPerPrincipal.get(principal.id) ?? 1) - 1;
      if (count <= 0) {
        this.#streamsPerPrincipal.delete(principal.id);
        this.#presence.streamClosed(principal.id);
      } else {
        this.#streamsPerPrincipal.set(principal.id, count);
        this.#presence.streamTouched(principal.id);
      }
    }
    this.#log.info("agent disconnected", { agent_id: connection.agentId, code: end.code, reason: end.message });
    this.#emit("disconnected", () => connection.snapshot(), end);
  }

  /** Wakes shutdown waiters and notifies listeners; the snapshot is only built when someone listens. */
  #emit(event: "connected" | "disconnected" | "state", snapshot: () => AgentInfo, end?: StreamEnd): void {
    for (const check of [...this.#idleWaiters]) check();
    if (this.#listeners.size === 0) return;
    const info = snapshot();
    for (const listener of this.#listeners) {
      try {
        listener(event, info, end);
      } catch (err) {
        this.#log.error("agent change listener failed", { cause: err });
      }
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
