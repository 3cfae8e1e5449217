// ABOUTME: The gateway's Prometheus metrics (ops.md §1.2-§1.5): one prom-client Registry per gateway, never the global one.
// ABOUTME: Recording methods are O(1) counter/gauge/histogram updates on pre-bound children; a disabled instance records nothing.
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export type Ingress = "http" | "grpc" | "webchat" | "ws" | "tool";
export type TurnOutcome = "done" | "error" | "canceled";
export type SubscriberKind = "sse" | "stream_events" | "webchat" | "ws";
export type AuthEdge = "grpc" | "http" | "mcp" | "ws" | "webadmin";
export type AuthFailureReason =
  | "missing"
  | "invalid"
  | "expired"
  | "revoked"
  | "pending"
  | "unknown_key"
  | "bad_signature"
  | "replay"
  | "skew";
export type RateLimitScope = "http_principal" | "http_address" | "grpc_send" | "mcp" | "ws";
export type ApprovalOutcome = "approved" | "denied" | "expired" | "canceled" | "guard_denied";
export type QuestionOutcome = "answered" | "timeout" | "withdrawn";
export type PackOutcome = "ok" | "error" | "timeout" | "disconnected" | "not_found" | "guard_denied";
export type GuardSource = "approval_request" | "tool_use" | "pack_tool" | "mcp";
export type GuardActionLabel = "deny" | "require_approval" | "warn";
export type TokenKind = "input" | "output" | "cache_read" | "cache_write" | "thinking";
export type StreamCloseReason = "agent_end" | "heartbeat_timeout" | "revoked" | "shutdown" | "error";
export type McpMethod = "initialize" | "tools/list" | "tools/call" | "ping" | "other";

const TURN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
const CALL_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Distinct `pack` label values per process before `other` (ops.md §1.4). */
export const MAX_PACK_LABELS = 50;
const WS_CLOSE_CODES = new Set(["1000", "1001", "1005", "1006", "1008", "1009", "1011", "1012", "1013", "4000", "4001", "4002", "4003", "4004", "4005", "4008", "4009", "4029"]);
const ELU_WINDOW = 10;

/** One accepted turn's timing: first event and terminal, recorded once each. */
export interface TurnMeter {
  /** Call for every event of the turn, in order; `kind` is the AgentEvent kind. */
  event(kind: string): void;
}

const NOOP_TURN: TurnMeter = { event: () => {} };

export interface GatewayMetricsOptions {
  /** false: nothing is registered or recorded (and `/metrics` is not mounted). */
  enabled: boolean;
  version: string;
  /** Database file + WAL size, read at scrape (ops.md §1.3 `coven_db_size_bytes`). */
  dbSizeBytes?: () => number | Promise<number>;
  now?: () => number;
}

/** The gateway's metrics. Call `close` at stop: it ends the utilization sampler. */
export class GatewayMetrics {
  readonly isEnabled: boolean;
  readonly registry: Registry;
  readonly #now: () => number;
  #dbSize: (() => number | Promise<number>) | undefined;
  #eluTimer: NodeJS.Timeout | undefined;
  readonly #packLabels = new Set<string>();
  // Labelled families (undefined when disabled).
  readonly #m: ReturnType<typeof declare> | undefined;

  constructor(options: GatewayMetricsOptions) {
    this.isEnabled = options.enabled;
    this.registry = new Registry();
    this.#now = options.now ?? (() => performance.now());
    this.#dbSize = options.dbSizeBytes;
    if (!options.enabled) return;
    collectDefaultMetrics({ register: this.registry });
    this.#m = declare(this.registry, () => this.#dbSize?.() ?? 0);
    this.#m.buildInfo.labels(options.version).set(1);
    this.#m.maintenance.set(0);
    this.#startElu();
  }

  /** Sets the db size reader once the store is open. */
  setDbSizeReader(read: () => number | Promise<number>): void {
    this.#dbSize = read;
  }

  /** The Prometheus text exposition of this gateway's registry. */
  async scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return "text/plain; version=0.0.4; charset=utf-8";
  }

  close(): void {
    if (this.#eluTimer) clearInterval(this.#eluTimer);
    this.#eluTimer = undefined;
  }

  #startElu(): void {
    const samples: EventLoopUtilization[] = [performance.eventLoopUtilization()];
    this.#eluTimer = setInterval(() => {
      samples.push(performance.eventLoopUtilization());
      if (samples.length > ELU_WINDOW + 1) samples.shift();
      const first = samples[0] as EventLoopUtilization;
      const last = samples[samples.length - 1] as EventLoopUtilization;
      this.#m?.elu.set(performance.eventLoopUtilization(last, first).utilization);
    }, 1000);
    this.#eluTimer.unref();
  }

  // --- agents ---
  agentsConnected(countsByState: ReadonlyMap<string, number>): void {
    const m = this.#m;
    if (!m) return;
    m.agentsConnected.reset();
    for (const [state, n] of countsByState) m.agentsConnected.labels(state).set(n);
  }
  agentStream(outcome: "registered" | "rejected"): void {
    this.#m?.agentStreams.labels(outcome).inc();
  }
  agentStreamClosed(reason: StreamCloseReason): void {
    this.#m?.streamCloses.labels(reason).inc();
  }
  eventDiscarded(reason: "no_event" | "unknown_request"): void {
    this.#m?.discarded.labels(reason).inc();
  }
  backpressurePause(): void {
    this.#m?.backpressure.inc();
  }

  // --- turns ---
  /** A turn was accepted (its dispatch to the agent succeeded). */
  turnAccepted(ingress: Ingress): TurnMeter {
    const m = this.#m;
    if (!m) return NOOP_TURN;
    const turn = m.turns[ingress];
    turn.started.inc();
    m.inFlight.inc();
    const startedAt = this.#now();
    let seenFirst = false;
    let ended = false;
    const now = this.#now;
    return {
      event(kind) {
        if (ended) return;
        if (!seenFirst) {
          seenFirst = true;
          turn.firstEvent.observe((now() - startedAt) / 1000);
        }
        if (kind === "text") {
          m.textChunks.inc();
          return;
        }
        if (kind === "done" || kind === "error" || kind === "canceled") {
          ended = true;
          turn.ended[kind].inc();
          turn.duration.observe((now() - startedAt) / 1000);
          m.inFlight.dec();
        }
      },
    };
  }

  // --- subscribers and writers ---
  subscribers(kind: SubscriberKind, delta: number): void {
    this.#m?.subscribers.labels(kind).inc(delta);
  }
  subscriberOverflow(kind: SubscriberKind): void {
    this.#m?.overflows.labels(kind).inc();
  }
  writeWait(kind: "sse" | "ws"): void {
    this.#m?.writeWaits.labels(kind).inc();
  }
  writeStall(kind: "sse" | "ws"): void {
    this.#m?.writeStalls.labels(kind).inc();
  }

  // --- WebSocket ---
  wsConnections(delta: number): void {
    this.#m?.wsConnections.inc(delta);
  }
  wsClose(code: number | undefined): void {
    const label = code !== undefined && WS_CLOSE_CODES.has(String(code)) ? String(code) : "other";
    this.#m?.wsCloses.labels(label).inc();
  }
  wsRequest(method: string, code: string): void {
    this.#m?.wsRequests.labels(method, code).inc();
  }

  // --- store ---
  ledgerAppends(n = 1): void {
    this.#m?.ledgerAppends.inc(n);
  }
  ledgerCommit(seconds: number): void {
    this.#m?.ledgerCommit.observe(seconds);
  }

  // --- auth and limits ---
  authFailure(edge: AuthEdge, reason: AuthFailureReason): void {
    this.#m?.authFailures.labels(edge, reason).inc();
  }
  lockout(): void {
    this.#m?.lockouts.inc();
  }
  rateLimited(scope: RateLimitScope): void {
    this.#m?.rateLimited.labels(scope).inc();
  }

  // --- approvals, questions, packs, MCP ---
  approvalResolved(outcome: ApprovalOutcome): void {
    this.#m?.approvals.labels(outcome).inc();
  }
  approvalsPending(delta: number): void {
    this.#m?.approvalsPending.inc(delta);
  }
  questionResolved(outcome: QuestionOutcome): void {
    this.#m?.questions.labels(outcome).inc();
  }
  questionsPending(delta: number): void {
    this.#m?.questionsPending.inc(delta);
  }
  /** A router call ended; `pack` is the tool's pack id (undefined when the tool was not found). */
  packCall(pack: string | undefined, outcome: PackOutcome, seconds: number | undefined): void {
    const m = this.#m;
    if (!m) return;
    const label = this.#packLabel(pack);
    m.packCalls.labels(label, outcome).inc();
    if (seconds !== undefined) m.packCallSeconds.labels(label).observe(seconds);
  }
  mcpSessions(delta: number): void {
    this.#m?.mcpSessions.inc(delta);
  }
  mcpRequest(method: string): void {
    const label: McpMethod =
      method === "initialize" || method === "tools/list" || method === "tools/call" || method === "ping" ? method : "other";
    this.#m?.mcpRequests.labels(label).inc();
  }

  // --- guard, cost, budgets, maintenance ---
  guardMatch(action: GuardActionLabel, source: GuardSource): void {
    this.#m?.guardMatches.labels(action, source).inc();
  }
  tokens(kind: TokenKind, n: number): void {
    if (n > 0) this.#m?.tokens.labels(kind).inc(n);
  }
  costMicros(n: number): void {
    if (n > 0) this.#m?.cost.inc(n);
  }
  budgetRefusal(scope: "principal" | "agent"): void {
    this.#m?.budgetRefusals.labels(scope).inc();
  }
  maintenance(isOn: boolean): void {
    this.#m?.maintenance.set(isOn ? 1 : 0);
  }

  #packLabel(pack: string | undefined): string {
    if (pack === undefined) return "none";
    if (this.#packLabels.has(pack)) return pack;
    if (this.#packLabels.size >= MAX_PACK_LABELS) return "other";
    this.#packLabels.add(pack);
    return pack;
  }
}

/** Registers every metric of §1.3 on `registry` (so a scrape lists each with its type from the start). */
function declare(registry: Registry, dbSize: () => number | Promise<number>) {
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers });
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers });
  const histogram = (name: string, help: string, buckets: number[], labelNames: string[] = []) =>
    new Histogram({ name, help, buckets, labelNames, registers });

  const turnsStarted = counter("coven_turns_started_total", "Turns accepted by the turn pipeline", ["ingress"]);
  const turnsTotal = counter("coven_turns_total", "Turns ended, by terminal kind", ["ingress", "outcome"]);
  const turnDuration = histogram("coven_turn_duration_seconds", "Accepted to terminal event", TURN_BUCKETS, ["ingress"]);
  const turnFirst = histogram("coven_turn_first_event_seconds", "Accepted to the first event of the turn", TURN_BUCKETS, ["ingress"]);
  const bindTurn = (ingress: Ingress) => ({
    started: turnsStarted.labels(ingress),
    ended: {
      done: turnsTotal.labels(ingress, "done"),
      error: turnsTotal.labels(ingress, "error"),
      canceled: turnsTotal.labels(ingress, "canceled"),
    },
    duration: turnDuration.labels(ingress),
    firstEvent: turnFirst.labels(ingress),
  });
  const m = {
    buildInfo: gauge("coven_build_info", "Always 1; the version label carries the build", ["version"]),
    agentsConnected: gauge("coven_agents_connected", "Registered (routable) agent connections", ["state"]),
    agentStreams: counter("coven_agent_streams_total", "AgentStream calls: Welcome queued, or ended before it", ["outcome"]),
    streamCloses: counter("coven_agent_stream_closes_total", "Registered streams that ended", ["reason"]),
    turns: { http: bindTurn("http"), grpc: bindTurn("grpc"), webchat: bindTurn("webchat"), ws: bindTurn("ws"), tool: bindTurn("tool") },
    inFlight: gauge("coven_turns_in_flight", "Turns accepted and not yet ended"),
    textChunks: counter("coven_text_chunks_total", "text events relayed from agents"),
    discarded: counter("coven_agent_events_discarded_total", "Agent events dropped (agent-stream.md §4/§5)", ["reason"]),
    subscribers: gauge("coven_subscribers", "Live event subscribers", ["kind"]),
    overflows: counter("coven_subscriber_overflows_total", "Subscribers ended for a full queue", ["kind"]),
    backpressure: counter("coven_backpressure_pauses_total", "Agent streams paused by the request-queue watermark"),
    writeWaits: counter("coven_write_waits_total", "Times an SSE or WS run writer waited for its socket to drain", ["kind"]),
    writeStalls: counter("coven_write_stalls_total", "Clients treated as gone after the write stall timeout", ["kind"]),
    wsConnections: gauge("coven_ws_connections", "Established WS connections"),
    wsCloses: counter("coven_ws_closes_total", "WS closes by close code", ["code"]),
    wsRequests: counter("coven_ws_requests_total", "WS req frames answered", ["method", "code"]),
    ledgerAppends: counter("coven_ledger_appends_total", "Ledger rows committed"),
    ledgerCommit: histogram("coven_ledger_commit_seconds", "One write transaction on the append path, begin to commit", COMMIT_BUCKETS),
    dbSize: new Gauge({
      name: "coven_db_size_bytes",
      help: "Database file + WAL size, read at scrape",
      registers,
      async collect() {
        this.set(await dbSize());
      },
    }),
    authFailures: counter("coven_auth_failures_total", "Refused credentials", ["edge", "reason"]),
    lockouts: counter("coven_lockouts_total", "Addresses locked out"),
    rateLimited: counter("coven_rate_limited_total", "Requests refused by a rate limit", ["scope"]),
    approvals: counter("coven_approvals_total", "Tool approvals resolved", ["outcome"]),
    approvalsPending: gauge("coven_approvals_pending", "Pending tool approvals"),
    questions: counter("coven_questions_total", "ask_user questions resolved", ["outcome"]),
    questionsPending: gauge("coven_questions_pending", "Pending questions"),
    packCalls: counter("coven_pack_calls_total", "Tool calls through the router", ["pack", "outcome"]),
    packCallSeconds: histogram("coven_pack_call_seconds", "Router call duration, accepted to result", CALL_BUCKETS, ["pack"]),
    mcpSessions: gauge("coven_mcp_sessions", "Live MCP sessions"),
    mcpRequests: counter("coven_mcp_requests_total", "MCP JSON-RPC requests after authentication", ["method"]),
    guardMatches: counter("coven_guard_matches_total", "Command guard matches", ["action", "source"]),
    tokens: counter("coven_tokens_total", "Tokens reported in usage events", ["kind"]),
    cost: counter("coven_cost_micros_total", "Priced cost of usage rows, in millionths of costs.currency"),
    budgetRefusals: counter("coven_budget_refusals_total", "Sends refused by a budget", ["scope"]),
    maintenance: gauge("coven_maintenance", "1 while maintenance mode is on"),
    elu: gauge("coven_event_loop_utilization", "Event-loop utilization over the last 10 s, sampled every second"),
  };
  // Gauges without labels must show a sample from the first scrape.
  for (const g of [m.inFlight, m.wsConnections, m.approvalsPending, m.questionsPending, m.mcpSessions, m.elu]) g.set(0);
  return m;
}
