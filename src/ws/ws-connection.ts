// ABOUTME: One client WebSocket (ws.md §2-§9): the hello handshake, request dispatch, gap-free `seq` on events,
// ABOUTME: the one bounded topic queue, backpressure waits, ticks and pings, and every server-initiated close.
import type { Socket } from "node:net";
import type { RawData, WebSocket } from "ws";
import { agentListing } from "../agent/agent-listing.js";
import { pendingApprovalJson, pendingQuestionJson } from "../conversation/pending-json.js";
import { isoTimestamp } from "../lib/clock.js";
import { isGatewayError } from "../lib/gateway-error.js";
import { isRefusal } from "../lib/refusal.js";
import type { UserQuestion } from "../store/question-repository.js";
import type { WsDeps } from "./ws-deps.js";
import { createWarnLimiter } from "../lib/warn-limiter.js";
import { authenticateHello, type WsCredentials, type WsIdentity } from "./ws-identity.js";
import { dispatchRequest, type MethodContext } from "./ws-methods.js";
import { WsRun, type RunOutlet } from "./ws-run.js";
import { EVENT_NAMES, METHOD_NAMES, WS_PROTOCOL, firstAjvError, type WsValidators } from "./ws-schemas.js";
import { WsTopics, type TopicEvent, type TopicOutlet } from "./ws-topics.js";

/** How long a closing socket may take to finish the close handshake before it is destroyed. */
const CLOSE_GRACE_MS = 1_000;
/** ops.md §6: write stalls and slow consumers warn once per connection per minute. */
const wsWarns = createWarnLimiter();
const WS_OPEN = 1;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** INTERNAL failures a method lists itself (§3.1), by reason; every other unexpected failure reads `internal error`. */
const SHOWN_INTERNAL_REASONS: ReadonlySet<string> = new Set(["approval_send_failed", "events_fetch_failed"]);

/** The connections of one gateway: caps, revocation and shutdown act on all of them. */
export interface WsConnectionSet {
  /** Established connections of one identity id (the per-identity cap). */
  countFor(identityId: string): number;
  added(conn: WsConnection): void;
  removed(conn: WsConnection): void;
}

/** Edge counters (ws.md §11 names; the ops layer exports them). */
export interface WsCounters {
  subscriberOverflows: number;
  writeWaits: number;
  writeStalls: number;
}

interface TopicEntry {
  topic: string;
  build: () => TopicEvent | undefined;
}

export class WsConnection implements RunOutlet, TopicOutlet {
  readonly connId: string;
  #deps: WsDeps;
  readonly #openedAt: number;
  #ws: WebSocket;
  #raw: Socket;
  #credentials: WsCredentials;
  #validators: WsValidators;
  #set: WsConnectionSet;
  #counters: WsCounters;
  #state: "hello" | "authenticating" | "open" | "closed" = "hello";
  #identity: WsIdentity | undefined;
  #seq = 0;
  #timers = new Set<NodeJS.Timeout>();
  #tickTimer: NodeJS.Timeout | undefined;
  #pongTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #drainWaiters: Array<(ok: boolean) => void> = [];
  #inProgress = new Set<string>();
  #runs = new Set<WsRun>();
  #recipients = new Map<string, () => void>();
  #queue: TopicEntry[] = [];
  #early: unknown[] = [];
  #isCorked = false;
  #holds = 0;
  #topics: WsTopics;
  #isShuttingDown = false;
  #closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor(options: {
    deps: WsDeps;
    socket: WebSocket;
    raw: Socket;
    credentials: WsCredentials;
    validators: WsValidators;
    set: WsConnectionSet;
    counters: WsCounters;
  }) {
    this.connId = options.deps.ids.uuid();
    // ops.md §6: every line logged for this connection (its topics and methods included) carries `conn_id`.
    this.#deps = { ...options.deps, log: options.deps.log.child({ conn_id: this.connId }) };
    this.#openedAt = performance.now();
    this.#ws = options.socket;
    this.#raw = options.raw;
    this.#credentials = options.credentials;
    this.#validators = options.validators;
    this.#set = options.set;
    this.#counters = options.counters;
    this.#topics = new WsTopics(this.#deps, this, this.#deps.limits.wsMaxSubscriptions);
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#set.added(this);
    this.#ws.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    this.#ws.on("pong", () => this.#heard());
    this.#ws.on("close", (code: number) => {
      this.#deps.ops?.closed(code);
      this.#deps.log.info("ws connection closed", { code, duration_ms: Math.round((performance.now() - this.#openedAt) * 10) / 10 });
      this.#cleanup();
    });
    this.#ws.on("error", (err) => this.#deps.log.debug("ws socket error", { cause: err }));
    this.#raw.on("drain", () => this.#onDrain());
    this.#after(this.#deps.limits.wsHelloTimeoutMs, () => {
      if (this.#state === "hello") this.close(1008, "hello timeout");
    });
  }

  /** Re-reads the state after an await (TypeScript narrows the field across it). */
  get #isClosed(): boolean {
    return this.#state === "closed";
  }

  get identity(): WsIdentity | undefined {
    return this.#identity;
  }

  get isEstablished(): boolean {
    return this.#state === "open";
  }

  /** Resolves once the socket is closed and every resource of the connection released. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  // ---- closing ----

  /** Closes with `code`/`reason` (§1.1); a socket that does not finish the close handshake within 1 s is destroyed. */
  close(code: number, reason: string): void {
    if (this.#state === "closed") return;
    this.#cleanup();
    try {
      this.#ws.close(code, reason);
    } catch (err) {
      this.#deps.log.debug("ws close failed", { cause: err });
    }
    const timer = setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    this.#ws.once("close", () => clearTimeout(timer));
  }

  /** Destroys the socket at once (end of the graceful shutdown phase). */
  destroy(): void {
    this.#cleanup();
    this.#ws.terminate();
  }

  /**
   * Stop began (§9): handshaking connections close 1012 at once; established ones get `shutdown` and close 1012
   * as soon as they have no run in flight.
   */
  beginShutdown(): void {
    if (this.#state === "closed" || this.#isShuttingDown) return;
    this.#isShuttingDown = true;
    if (this.#state !== "open") {
      this.close(1012, "gateway shutting down");
      return;
    }
    this.writeEvent("shutdown", { reason: "gateway shutting down" });
    if (this.#runs.size === 0) this.close(1012, "gateway shutting down");
  }

  /**
   * The identity's principal was revoked or deleted (§9): each run gets its terminal `error` and is canceled with
   * `principal_revoked`, then the socket closes 4403 or 4401.
   */
  async endForRemovedPrincipal(reason: "revoked" | "deleted"): Promise<void> {
    if (this.#state === "closed") return;
    const text = reason === "revoked" ? "principal has been revoked" : "principal not found";
    const runs = [...this.#runs];
    await Promise.all(
      runs.map(async (run) => {
        await run.endWithError(text);
        this.#deps.conversations.clientGone(run.requestId, "principal_revoked");
      }),
    );
    this.close(reason === "revoked" ? 4403 : 4401, text);
  }

  #cleanup(): void {
    if (this.#state === "closed") return;
    if (this.#state === "open") this.#deps.ops?.established(-1);
    this.#state = "closed";
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#tickTimer) clearInterval(this.#tickTimer);
    if (this.#pongTimer) clearTimeout(this.#pongTimer);
    this.#clearStall();
    for (const waiter of this.#drainWaiters.splice(0)) waiter(false);
    this.#topics.closeAll();
    this.#queue = [];
    for (const remove of this.#recipients.values()) remove();
    this.#recipients.clear();
    // Runs still in flight are handled like an SSE client that went away (§1.1).
    for (const run of this.#runs) {
      if (!run.isTerminated && run.requestId !== "") this.#deps.conversations.clientGone(run.requestId);
      run.discard();
    }
    this.#runs.clear();
    this.#set.removed(this);
    this.#resolveClosed();
  }

  #after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  // ---- writing ----

  /** Writes one event frame with the next `seq` (assigned at handover to the socket, §4). */
  writeEvent(event: string, payload: Record<string, unknown>, topic?: string): void {
    if (this.#state === "closed" || this.#ws.readyState !== WS_OPEN) return;
    this.#seq += 1;
    const frame = topic === undefined ? { type: "event", event, seq: this.#seq, payload } : { type: "event", event, topic, seq: this.#seq, payload };
    this.#send(JSON.stringify(frame));
  }

  #writeFrame(frame: Record<string, unknown>): void {
    if (this.#ws.readyState !== WS_OPEN) return;
    this.#send(JSON.stringify(frame));
  }

  /**
   * Frames of one event-loop turn leave in one socket write: the raw socket is corked at the first and uncorked at
   * `setImmediate` (grpc-js hands over one agent message per turn; without this every chunk cost its own write).
   */
  #send(text: string): void {
    if (!this.#isCorked) {
      this.#isCorked = true;
      this.#raw.cork();
      setImmediate(() => {
        this.#isCorked = false;
        this.#raw.uncork();
      });
    }
    this.#ws.send(text);
  }

  get #isOverLimit(): boolean {
    return this.#ws.bufferedAmount > this.#deps.limits.wsMaxBufferedBytes;
  }

  /**
   * Backpressure for runs and replays (§8): resolves true once the socket is under `ws_max_buffered_bytes`, false
   * when the connection closed. A wait longer than `sse_write_stall_timeout` closes 4001 `write stalled`.
   */
  waitWritable(): Promise<boolean> {
    if (this.#state === "closed") return Promise.resolve(false);
    if (!this.#isOverLimit) return Promise.resolve(true);
    this.#counters.writeWaits += 1;
    this.#deps.ops?.writeWait();
    if (this.#stallTimer === undefined) {
      this.#stallTimer = setTimeout(() => {
        this.#stallTimer = undefined;
        this.#counters.writeStalls += 1;
        this.#deps.ops?.writeStall();
        wsWarns.warn(this.#deps.log, `write_stall\u0000${this.connId}`, "ws write stalled");
        this.close(4001, "write stalled");
        // Best effort: the close frame cannot get through a stalled socket.
        this.#ws.terminate();
      }, this.#deps.limits.sseWriteStallTimeoutMs);
    }
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #clearStall(): void {
    if (this.#stallTimer) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  #onDrain(): void {
    if (this.#state === "closed") return;
    this.#pumpQueue();
    if (this.#isOverLimit) return;
    this.#clearStall();
    const waiters = this.#drainWaiters.splice(0);
    for (const waiter of waiters) waiter(true);
  }

  runEnded(run: WsRun): void {
    this.#runs.delete(run);
    this.#refreshRecipient(run.agentId);
    if (this.#isShuttingDown && this.#runs.size === 0) this.close(1012, "gateway shutting down");
  }

  // ---- the topic queue (§8) ----

  enqueue(topic: string, build: () => TopicEvent | undefined): void {
    if (this.#state === "closed") return;
    if (this.#queue.length >= this.#deps.limits.subscriberQueue) {
      this.#counters.subscriberOverflows += 1;
      this.#deps.ops?.overflowed();
      wsWarns.warn(this.#deps.log, `subscriber_overflow\u0000${this.connId}`, "ws slow consumer", { queued: this.#queue.length });
      this.close(4008, "slow consumer");
      return;
    }
    this.#queue.push({ topic, build });
    if (this.#queue.length === 1) queueMicrotask(() => this.#pumpQueue());
  }

  discardQueued(topic: string): void {
    this.#queue = this.#queue.filter((entry) => entry.topic !== topic);
  }

  holdQueue(): () => void {
    this.#holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      this.#pumpQueue();
    };
  }

  #pumpQueue(): void {
    let written = 0;
    while (this.#state !== "closed" && this.#holds === 0 && this.#queue.length > 0 && !this.#isOverLimit) {
      // Shift in batches: a 1 024-long array shift is cheap, but avoid O(n²) when a burst drains at once.
      const entry = this.#queue[written] as TopicEntry;
      written += 1;
      const out = entry.build();
      if (out !== undefined) this.writeEvent(out.event, out.payload, entry.topic);
      if (written === this.#queue.length || this.#isOverLimit || this.#holds > 0) {
        this.#queue.splice(0, written);
        written = 0;
      }
    }
    if (written > 0) this.#queue.splice(0, written);
  }

  // ---- inbound ----

  #heard(): void {
    if (this.#pongTimer) clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    this.#heard();
    if (this.#state === "closed") return;
    if (isBinary) {
      this.close(1003, "binary frames are not supported");
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(rawText(data));
    } catch {
      this.close(1007, "invalid JSON");
      return;
    }
    if (this.#state === "hello") {
      void this.#onHello(frame).catch((cause: unknown) => this.#internal(cause));
      return;
    }
    if (this.#state === "authenticating") {
      // Pipelined behind the hello: handled in order once hello-ok is out.
      this.#early.push(frame);
      return;
    }
    this.#onRequest(frame);
  }

  #internal(cause: unknown): void {
    this.#deps.log.error("ws connection failed", { cause });
    this.close(1011, "internal error");
  }

  async #onHello(frame: unknown): Promise<void> {
    if (!isObject(frame) || frame.type !== "hello") {
      this.close(1008, "hello required");
      return;
    }
    this.#state = "authenticating";
    if (!this.#validators.hello(frame)) {
      this.#writeFrame({ type: "hello-error", reason: "invalid hello", message: firstAjvError(this.#validators.hello.errors) });
      this.close(1008, "invalid hello");
      return;
    }
    const min = frame.min_protocol as number;
    const max = frame.max_protocol as number;
    if (WS_PROTOCOL < min || WS_PROTOCOL > max) {
      this.#writeFrame({ type: "hello-error", reason: "protocol mismatch", expected_protocol: WS_PROTOCOL });
      this.close(1002, "protocol mismatch");
      return;
    }
    const auth = isObject(frame.auth) && typeof frame.auth.token === "string" ? frame.auth.token : undefined;
    const outcome = await authenticateHello(this.#deps, this.#credentials, auth);
    if (this.#isClosed) return;
    if (outcome.kind === "refused") {
      this.#deps.ops?.authFailed(outcome.cause);
      this.#writeFrame({ type: "hello-error", reason: "unauthenticated", message: outcome.message });
      this.close(1008, "unauthenticated");
      return;
    }
    const identity = outcome.identity;
    const cap = this.#deps.limits.wsMaxConnectionsPerPrincipal;
    if (cap > 0 && this.#set.countFor(identity.id) >= cap) {
      this.#writeFrame({ type: "hello-error", reason: "too many connections" });
      this.close(1008, "too many connections");
      return;
    }
    const [approvals, questions] = await Promise.all([this.#deps.approvals.listPending(), this.#deps.questions.listPending()]);
    if (this.#isClosed) return;
    this.#identity = identity;
    const limits = this.#deps.limits;
    this.#writeFrame({
      type: "hello-ok",
      protocol: WS_PROTOCOL,
      server: { version: this.#deps.version, server_id: this.#deps.serverId(), conn_id: this.connId },
      identity: { kind: identity.kind, id: identity.id, display_name: identity.displayName, roles: [...identity.roles] },
      features: { methods: [...METHOD_NAMES], events: [...EVENT_NAMES] },
      snapshot: {
        agents: this.#deps.agents.list().map(agentListing),
        pending_approvals: approvals.map(pendingApprovalJson),
        pending_questions: questions.map(pendingQuestionJson),
        maintenance: this.#deps.ops?.maintenance.state() ?? { enabled: false, message: "", since: null },
      },
      policy: {
        max_payload: limits.wsMaxPayloadBytes,
        max_buffered_bytes: limits.wsMaxBufferedBytes,
        tick_interval_ms: limits.wsTickIntervalMs,
        max_subscriptions: limits.wsMaxSubscriptions,
      },
    });
    this.#state = "open";
    this.#deps.ops?.established(1);
    this.#deps.log.debug("ws connection established", { identity: identity.id });
    if (identity.expiresAtMs !== undefined) {
      this.#closeAt(identity.expiresAtMs, identity.kind === "webadmin" ? "session ended" : "token expired");
    }
    this.#tickTimer = setInterval(() => this.#tick(), limits.wsTickIntervalMs);
    for (const early of this.#early.splice(0)) if (this.#state === "open") this.#onRequest(early);
  }

  /** Closes 4401 `reason` at `atMs`; timers over 2^31-1 ms fire at once in Node, so long waits re-arm. */
  #closeAt(atMs: number, reason: string): void {
    const left = atMs - this.#deps.clock.now().getTime();
    if (left <= 0) {
      this.close(4401, reason);
      return;
    }
    this.#after(Math.min(left, MAX_TIMER_MS), () => this.#closeAt(atMs, reason));
  }

  #tick(): void {
    if (this.#state !== "open") return;
    if (!this.#isOverLimit) this.writeEvent("tick", { ts: isoTimestamp(this.#deps.clock.now()) });
    try {
      this.#ws.ping();
    } catch (err) {
      this.#deps.log.debug("ws ping failed", { cause: err });
    }
    if (this.#pongTimer === undefined) {
      this.#pongTimer = setTimeout(() => this.close(1001, "pong timeout"), this.#deps.limits.wsPongTimeoutMs);
    }
  }

  #onRequest(frame: unknown): void {
    if (!isObject(frame) || frame.type !== "req" || typeof frame.id !== "string" || frame.id.length < 1 || frame.id.length > 64) {
      this.close(1008, "invalid frame");
      return;
    }
    const id = frame.id;
    const ops = this.#deps.ops;
    const method = typeof frame.method === "string" && (METHOD_NAMES as readonly string[]).includes(frame.method) ? frame.method : "unknown";
    const respond = (result: { payload: Record<string, unknown> } | { error: { code: string; message: string; retry_after_ms?: number } }) => {
      ops?.requestAnswered(method, "payload" in result ? "OK" : result.error.code);
      if ("payload" in result) this.#writeFrame({ type: "res", id, ok: true, payload: result.payload });
      else this.#writeFrame({ type: "res", id, ok: false, error: result.error });
    };
    if (this.#isShuttingDown || this.#deps.lifecycle.isShuttingDown()) {
      respond({ error: { code: "UNAVAILABLE", message: "gateway shutting down" } });
      return;
    }
    const wait = ops?.takeRequest(this.connId) ?? 0;
    if (wait > 0) {
      respond({ error: { code: "RESOURCE_EXHAUSTED", message: "rate limit exceeded", retry_after_ms: wait } });
      return;
    }
    if (this.#inProgress.has(id)) {
      respond({ error: { code: "INVALID_ARGUMENT", message: "duplicate request id" } });
      return;
    }
    this.#inProgress.add(id);
    const context: MethodContext = {
      deps: this.#deps,
      validators: this.#validators,
      identity: this.#identity as WsIdentity,
      topics: this.#topics,
      newRun: (agentId) => this.#newRun(agentId),
    };
    dispatchRequest(context, frame.method, frame.params)
      .then((answer) => {
        if (this.#state === "closed") {
          answer.abandon?.();
          return;
        }
        respond({ payload: answer.payload });
        answer.afterResponse?.();
      })
      .catch((err: unknown) => {
        if (isRefusal(err) && err.retryAfterMs !== undefined) {
          respond({ error: { code: err.code, message: err.message, retry_after_ms: err.retryAfterMs } });
          return;
        }
        if (isGatewayError(err) && (err.code !== "INTERNAL" || SHOWN_INTERNAL_REASONS.has(err.reason ?? ""))) {
          respond({ error: { code: err.code, message: err.message } });
          return;
        }
        this.#deps.log.error("ws request failed", { method: String(frame.method), cause: err });
        respond({ error: { code: "INTERNAL", message: "internal error" } });
      })
      .finally(() => this.#inProgress.delete(id));
  }

  #newRun(agentId: string): { run: WsRun; track(): void } {
    const run = new WsRun(this, agentId);
    return {
      run,
      track: () => {
        this.#runs.add(run);
        this.#refreshRecipient(agentId);
      },
    };
  }

  /** While a run to `agentId` is in flight, this connection is one question recipient (§5, §6.3). */
  #refreshRecipient(agentId: string): void {
    const oldest = [...this.#runs].find((run) => run.agentId === agentId && !run.isTerminated);
    const registered = this.#recipients.get(agentId);
    if (oldest && !registered) {
      const remove = this.#deps.questions.addRecipient(agentId, {
        deliverQuestion: (question: UserQuestion) => {
          const target = [...this.#runs].find((run) => run.agentId === agentId && !run.isTerminated);
          target?.deliverQuestion(question);
        },
      });
      this.#recipients.set(agentId, remove);
    } else if (!oldest && registered) {
      registered();
      this.#recipients.delete(agentId);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
