// ABOUTME: Turns raw benchmark figures into verdicts, the bench/RESULTS.md document and a console summary.
// ABOUTME: Functions of a plain results object (plus the machine's description), kept apart from the measuring.
import { cpus, totalmem, release } from "node:os";
import type { LatencySamples, StreamRun } from "./measurements.js";
import { ratioVerdict } from "./figures.js";
import type { SoakResult, ThroughputRun } from "./throughput.js";
import type { ScaleResult } from "./scale.js";
import type { ReplayResult } from "./replay.js";

/** Latency distribution of one target, in ms, with the CPU its processes spent per round trip. */
export interface LatencyStats {
  n: number;
  cpuMsPerRoundTrip: Record<string, number>;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Everything one run measured. `lean` is the gateway with bench/lean-agent.ts, `fake` with cmd/fake-agent. */
export interface BenchResults {
  date: string;
  durationMs: number;
  /** Cores kept busy on average by other processes on the machine during the run (see child-process.ts). */
  backgroundCores: number;
  settings: {
    warmup: number;
    samples: number;
    chunks: number;
    streamRuns: number;
    throughput: { agents: number; clients: number; warmupMs: number; durationMs: number };
    quick: boolean;
  };
  /** A line about the run from `--note`. */
  note?: string;
  /** `packTool`: ExecutePackTool → example-time `echo` → PackToolResult, through the gateway. */
  latency?: { lean: LatencyStats; fake: LatencyStats; sseFloor: LatencyStats; grpcFloor: LatencyStats; packTool: LatencyStats };
  stream?: { lean: StreamRun[]; fake: StreamRun[]; floor: StreamRun[]; wsLean: StreamRun[]; wsFloor: StreamRun[] };
  /** Sequential turns/s per round, gateway with metrics (`on`, the default) and with `metrics.enabled: false`. */
  metricsOverhead?: { on: number[]; off: number[] };
  /** Issue 10 figure 1: persisted turns, relay floor vs gateway. */
  throughput?: { floor: ThroughputRun; gateway: ThroughputRun };
  /** Issue 10 figure 3: idle agents. */
  scale?: ScaleResult;
  /** Issue 10 figure 4: StreamEvents replay vs a bare better-sqlite3 → grpc-js stream. */
  replay?: ReplayResult;
  /** Issue 10 figure 5: the soak. */
  soak?: SoakResult;
}

/** Nearest-rank percentile summary of latency samples in ms. */
export function latencyStats({ samples, cpuMsPerRoundTrip }: LatencySamples): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, cpuMsPerRoundTrip, p50: rank(50), p90: rank(90), p99: rank(99), max: sorted.at(-1) ?? 0, mean };
}

/** The median of a list of numbers (0 for none). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** The run with the median throughput. */
export function medianRun(runs: StreamRun[]): StreamRun {
  const sorted = [...runs].sort((a, b) => a.chunksPerSecond - b.chunksPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

interface Row {
  metric: string;
  gateway: string;
  floor: string;
  ratio: string;
  target: string;
  pass: boolean;
}

const ms = (v: number) => `${v.toFixed(3)} ms`;
const x = (v: number) => `${v.toFixed(2)}×`;
const int = (v: number) => Math.round(v).toLocaleString("en-US");

const AGENTS = { lean: "grpc-js lean agent", fake: "fake-agent" } as const;

/** The verdict table: each target, the gateway figure, its floor, the ratio and PASS/FAIL. */
export function verdictRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  if (r.throughput !== undefined) rows.push(...throughputRows(r.throughput));
  if (r.latency !== undefined) {
    const { sseFloor, grpcFloor } = r.latency;
    const floorP50 = sseFloor.p50 + grpcFloor.p50;
    const floorP99 = sseFloor.p99 + grpcFloor.p99;
    for (const agent of ["lean", "fake"] as const) {
      const lat = r.latency[agent];
      const who = AGENTS[agent];
      rows.push(
        { metric: `send round trip p50 (${who})`, gateway: ms(lat.p50), floor: ms(floorP50), ratio: x(lat.p50 / floorP50), target: "≤ 1.5×", pass: lat.p50 / floorP50 <= 1.5 },
        { metric: `send round trip p99 (${who})`, gateway: ms(lat.p99), floor: ms(floorP99), ratio: x(lat.p99 / floorP99), target: "≤ 2×", pass: lat.p99 / floorP99 <= 2 },
      );
    }
  }
  if (r.scale !== undefined) rows.push(...scaleRows(r.scale));
  if (r.replay !== undefined) {
    const v = ratioVerdict(r.replay.gateway.eventsPerSecond, r.replay.floor.eventsPerSecond, 0.5, "atLeast");
    rows.push({
      metric: `StreamEvents replay of ${int(r.replay.events)} ledger events`,
      gateway: `${int(r.replay.gateway.eventsPerSecond)}/s`,
      floor: `${int(r.replay.floor.eventsPerSecond)}/s`,
      ratio: x(v.ratio),
      target: "≥ 0.5×",
      pass: v.pass,
    });
  }
  if (r.soak !== undefined) rows.push(...soakRows(r.soak));
  if (r.stream !== undefined) {
    const floorRate = medianRun(r.stream.floor).chunksPerSecond;
    for (const agent of ["lean", "fake"] as const) {
      const rate = medianRun(r.stream[agent]).chunksPerSecond;
      rows.push({
        metric: `text chunks/s agent → SSE (${AGENTS[agent]})`,
        gateway: `${int(rate)}/s`,
        floor: `${int(floorRate)}/s`,
        ratio: x(rate / floorRate),
        target: "≥ 0.5×",
        pass: rate / floorRate >= 0.5,
      });
    }
    const wsRate = medianRun(r.stream.wsLean).chunksPerSecond;
    const wsFloorRate = medianRun(r.stream.wsFloor).chunksPerSecond;
    rows.push({
      metric: `text chunks/s agent → WS client (${AGENTS.lean})`,
      gateway: `${int(wsRate)}/s`,
      floor: `${int(wsFloorRate)}/s`,
      ratio: x(wsRate / wsFloorRate),
      target: "≥ 0.5×",
      pass: wsRate / wsFloorRate >= 0.5,
    });
  }
  if (r.metricsOverhead !== undefined) {
    const on = median(r.metricsOverhead.on);
    const off = median(r.metricsOverhead.off);
    rows.push({
      metric: "turns/s with metrics recorded (vs metrics.enabled: false)",
      gateway: `${on.toFixed(1)}/s`,
      floor: `${off.toFixed(1)}/s`,
      ratio: x(on / off),
      target: "≥ 0.95× (≤ 5 % cost)",
      pass: on / off >= 0.95,
    });
  }
  if (r.latency !== undefined) {
    const { packTool: tool, grpcFloor } = r.latency;
    rows.push(
      {
        metric: "ExecutePackTool round trip p50 (example-time echo)",
        gateway: ms(tool.p50),
        floor: ms(grpcFloor.p50),
        ratio: x(tool.p50 / grpcFloor.p50),
        target: "≤ 2×",
        pass: tool.p50 / grpcFloor.p50 <= 2,
      },
      {
        metric: "ExecutePackTool round trip p99 (example-time echo)",
        gateway: ms(tool.p99),
        floor: ms(grpcFloor.p99),
        ratio: x(tool.p99 / grpcFloor.p99),
        target: "reported",
        pass: true,
      },
    );
  }
  return rows;
}

/** Figure 1: turns/s, gateway CPU per turn and loaded p99 against the relay floor; any failed turn fails. */
export function throughputRows(t: { floor: ThroughputRun; gateway: ThroughputRun }): Row[] {
  const { floor, gateway } = t;
  const rate = ratioVerdict(gateway.turnsPerSecond, floor.turnsPerSecond, 0.8, "atLeast");
  const cpu = ratioVerdict(gateway.serverCpuMsPerTurn, floor.serverCpuMsPerTurn, 1.5, "atMost");
  const p99 = ratioVerdict(gateway.p99, floor.p99, 1.5, "atMost");
  const clean = gateway.errors === 0 && floor.errors === 0;
  return [
    { metric: "persisted turns/s (vs relay floor)", gateway: `${int(gateway.turnsPerSecond)}/s`, floor: `${int(floor.turnsPerSecond)}/s`, ratio: x(rate.ratio), target: "≥ 0.8×", pass: rate.pass && clean },
    { metric: "server CPU per persisted turn", gateway: ms(gateway.serverCpuMsPerTurn), floor: ms(floor.serverCpuMsPerTurn), ratio: x(cpu.ratio), target: "≤ 1.5×", pass: cpu.pass && clean },
    { metric: "loaded p99 of a persisted turn", gateway: ms(gateway.p99), floor: ms(floor.p99), ratio: x(p99.ratio), target: "≤ 1.5×", pass: p99.pass && clean },
  ];
}

/** Figure 3: per-agent RSS, idle CPU, /api/agents latency, and the state after all agents disconnected. */
export function scaleRows(sc: ScaleResult): Row[] {
  const count = `${int(sc.agents)} agents`;
  const rssBack = sc.afterDisconnectKib / sc.baselineKib - 1;
  return [
    { metric: `RSS per idle agent (${count})`, gateway: `${sc.perAgentKib.toFixed(1)} KiB`, floor: "—", ratio: "—", target: "≤ 20 KiB", pass: sc.perAgentKib <= 20 },
    { metric: `idle CPU with ${count}`, gateway: `${(sc.idleCores * 100).toFixed(2)} % of a core`, floor: "—", ratio: "—", target: "≤ 2 %", pass: sc.idleCores <= 0.02 },
    { metric: `GET /api/agents with ${count} (median of ${sc.listMs.length})`, gateway: ms(median(sc.listMs)), floor: "—", ratio: "—", target: "≤ 50 ms", pass: median(sc.listMs) <= 50 },
    {
      metric: "RSS after all agents disconnected (vs before they connected)",
      gateway: `${int(sc.afterDisconnectKib)} KiB`,
      floor: `${int(sc.baselineKib)} KiB`,
      ratio: x(sc.afterDisconnectKib / sc.baselineKib),
      target: "≤ 1.10×",
      pass: rssBack <= 0.1,
    },
    {
      metric: "file descriptors left after all agents disconnected",
      gateway: `${sc.fdsAfter}`,
      floor: `${sc.fdsBefore}`,
      ratio: `${sc.fdsAfter - sc.fdsBefore} left`,
      target: "0 left",
      pass: sc.fdsAfter <= sc.fdsBefore,
    },
  ];
}

/** Figure 5: RSS drift, p99 drift, lost and duplicated rows; failed turns fail the row check. */
export function soakRows(so: SoakResult): Row[] {
  const p99 = ratioVerdict(so.p99.last, so.p99.first, 1.3, "atMost");
  const bad = so.rows.inbound.lost + so.rows.inbound.duplicated + so.rows.outbound.lost + so.rows.outbound.duplicated;
  return [
    {
      metric: `soak RSS drift after warm-up (${int(so.requested)} turns at ${int(so.rate)}/s)`,
      gateway: `${int(so.rss.endKib)} KiB`,
      floor: `${int(so.rss.baselineKib)} KiB`,
      ratio: `${(so.rss.drift * 100).toFixed(1)} %`,
      target: "≤ 10 %",
      pass: so.rss.drift <= 0.1,
    },
    { metric: "soak p99 of the last 10 % of turns (vs the first 10 %)", gateway: ms(so.p99.last), floor: ms(so.p99.first), ratio: x(p99.ratio), target: "≤ 1.3×", pass: p99.pass },
    {
      metric: "soak rows lost or duplicated in SQLite (user messages + replies)",
      gateway: `${bad} (${so.errors} failed turns)`,
      floor: "—",
      ratio: "—",
      target: "0",
      pass: bad === 0 && so.errors === 0,
    },
  ];
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

const NOISY_BACKGROUND_CORES = 0.2;

function machineLines(r: BenchResults): string[] {
  const cpu = cpus();
  const lines = [
    `- CPU: ${cpu[0]?.model ?? "unknown"} × ${cpu.length}`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node: ${process.version} (${process.platform} ${release()})`,
    `- Background load: other processes kept ${r.backgroundCores.toFixed(2)} of ${cpu.length} cores busy on average during the run`,
  ];
  if (r.note !== undefined) lines.push(`- Note: ${r.note}`);
  if (r.backgroundCores > NOISY_BACKGROUND_CORES) {
    lines.push("  (the machine was shared while measuring: wall-clock figures are pessimistic and noisy; CPU per chunk less so)");
  }
  return lines;
}

function cpuCell(cpuMs: Record<string, number>, scale: number, digits: number): string {
  return Object.entries(cpuMs)
    .map(([proc, v]) => `${proc} ${(v * scale).toFixed(digits)}`)
    .join(", ");
}

function latencyRow(name: string, s: LatencyStats): string[] {
  return [name, String(s.n), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), ms(s.mean), cpuCell(s.cpuMsPerRoundTrip, 1, 2)];
}

function streamRows(name: string, runs: StreamRun[]): string[][] {
  return runs.map((run, i) => [`${name} #${i + 1}`, int(run.chunks), ms(run.ms), `${int(run.chunksPerSecond)}/s`, cpuCell(run.cpuMs, 1000 / run.chunks, 1)]);
}

function throughputTable(t: { floor: ThroughputRun; gateway: ThroughputRun }): string {
  const row = (name: string, run: ThroughputRun) => [
    name,
    int(run.turns),
    String(run.errors),
    `${int(run.turnsPerSecond)}/s`,
    ms(run.serverCpuMsPerTurn),
    ms(run.p50),
    ms(run.p99),
    `server ${run.cores.server.toFixed(2)}, agents ${run.cores.agents.toFixed(2)}, client ${run.cores.client.toFixed(2)}`,
  ];
  return table(["target", "turns", "failed", "turns/s", "server CPU / turn", "p50", "p99", "cores busy"], [
    row("relay floor (node:http + grpc-js + better-sqlite3)", t.floor),
    row("gateway (`coven-gateway serve`)", t.gateway),
  ]);
}

function section(title: string, body: string[]): string[] {
  return [`### ${title}`, "", ...body, ""];
}

/** The whole bench/RESULTS.md document. */
export function renderMarkdown(r: BenchResults): string {
  const rows = verdictRows(r);
  const { settings } = r;
  const tp = settings.throughput;
  const out = [
    "# coven-gateway benchmark results",
    "",
    `Generated by \`npm run bench${settings.quick ? " -- --quick" : ""}\` on ${r.date} in ${(r.durationMs / 1000).toFixed(0)} s. Loopback only; the gateway`,
    "(`coven-gateway serve`, temp SQLite, auth off, JSON logs at info, `rate_limits.enabled: false` wherever turns are",
    "timed: the per-address limit would cap one loopback client at 100/s), the agents, the load client and the floor",
    "servers each run in their own child process (the sequential latency client is the bench process, `client`).",
    settings.quick ? "\n**This is a `--quick` run: short phases and small counts, a smoke test of the harness, not the figures.**" : "",
    "",
    "CPU columns come from /proc/<pid>/stat (10 ms ticks). `lean` is bench/lean-agent.ts (grpc-js, the floors'",
    "library); `fake-agent` is cmd/fake-agent as shipped (connect-node).",
    "",
    "## Machine",
    "",
    ...machineLines(r),
    "",
    "## Verdicts",
    "",
    table(
      ["metric", "gateway", "floor", "ratio", "target", "verdict"],
      rows.map((row) => [row.metric, row.gateway, row.floor, row.ratio, row.target, row.pass ? "PASS" : "FAIL"]),
    ),
    "",
    "## Raw figures",
    "",
  ];
  if (r.throughput !== undefined) {
    out.push(
      ...section(`(1) Persisted throughput: ${tp.agents} agents, ${tp.clients} concurrent clients, ${tp.durationMs / 1000} s per side after ${tp.warmupMs / 1000} s warm-up`, [
        throughputTable(r.throughput),
        "",
        "Both sides get the same agent process (bench/agent-fleet.ts: grpc-js, one connection and one AgentStream per",
        "agent, echo reply in one `text` and `done`) and the same load client (bench/load-client.ts: closed loop, one",
        "keep-alive socket per client, every reply checked). The relay floor (bench/relay-floor.ts) takes POST /api/send on",
        "node:http, commits the user message (one INSERT, better-sqlite3, WAL, synchronous=NORMAL), relays `send_message`",
        "over the agent's stream, streams `started`/`text` back as SSE, commits the reply (one INSERT) and writes `done`.",
        "p50/p99 are per turn, POST to the end of the SSE response, under that load.",
      ]),
    );
  }
  if (r.latency !== undefined) {
    out.push(
      ...section(`(2) Send round trip: POST /api/send → SSE \`done\` (${settings.warmup} warm-up, then interleaved rounds, sequential)`, [
        table(["target", "samples", "p50", "p90", "p99", "max", "mean", "CPU ms / round trip"], [
          latencyRow("gateway + grpc-js lean agent (echo)", r.latency.lean),
          latencyRow("gateway + fake-agent (echo, -done-delay-ms 0)", r.latency.fake),
          latencyRow("floor: node:http SSE echo", r.latency.sseFloor),
          latencyRow("floor: grpc-js bidi ping-pong", r.latency.grpcFloor),
          latencyRow("ExecutePackTool → example-time echo → PackToolResult", r.latency.packTool),
        ]),
        "",
        "The floor of each percentile is the SSE floor's plus the ping-pong floor's, the two hops a send makes through the",
        "gateway: a node:http server answering POST /api/send with the same started/text/done frames, and a grpc-js bidi",
        "ping-pong on one long-lived stream carrying the gateway's own protobuf frames (bench/floor-server.ts).",
        "",
        "The ExecutePackTool row is an agent stream in the bench process calling `echo` of packs/example-time (its own",
        "process, on the SDK) through the gateway: agent → gateway → pack stream → `ToolResult` unary → gateway → agent.",
        "Its floor is the bare grpc-js ping-pong alone (target ≤ 2× at p50).",
      ]),
    );
  }
  if (r.scale !== undefined) {
    const sc = r.scale;
    out.push(
      ...section(`(3) Scale: ${int(sc.agents)} idle agents over ${sc.processes} agent processes`, [
        table(["phase", "gateway RSS", "fds", "note"], [
          ["before any agent", `${int(sc.baselineKib)} KiB`, String(sc.fdsBefore), ""],
          ["all connected, settled", `${int(sc.connectedKib)} KiB`, String(sc.fdsConnected), `connected in ${(sc.connectMs / 1000).toFixed(1)} s; ${sc.perAgentKib.toFixed(1)} KiB per agent`],
          ["idle", "", "", `${(sc.idleCores * 100).toFixed(2)} % of a core over ${(sc.idleMs / 1000).toFixed(0)} s`],
          ["GET /api/agents", "", "", `${sc.listMs.map((v) => v.toFixed(1)).join(", ")} ms (${int(sc.listBytes)} bytes)`],
          ["all disconnected at once (SIGKILL)", `${int(sc.afterDisconnectKib)} KiB`, String(sc.fdsAfter), `gateway saw 0 agents after ${(sc.disconnectMs / 1000).toFixed(1)} s`],
        ]),
        "",
        "Every agent is a grpc-js client with its own channel (local subchannel pool) and so its own TCP connection and",
        "AgentStream (bench/agent-fleet.ts). RSS is VmRSS of the gateway, median of five readings; fds are the entries",
        "of /proc/<pid>/fd.",
        ...(sc.limitNote !== undefined ? ["", `**${sc.limitNote}**`] : []),
      ]),
    );
  }
  if (r.replay !== undefined) {
    const rp = r.replay;
    const line = (name: string, v: ReplayResult["gateway"]) => [name, int(v.events), ms(v.ms), `${int(v.eventsPerSecond)}/s`, cpuCell(v.cpuMs, 1000 / v.events, 2)];
    out.push(
      ...section(`(4) StreamEvents replay of ${int(rp.events)} ledger events`, [
        table(["target", "events", "time", "rate", "CPU ms / 1k events"], [
          line("gateway ClientService.StreamEvents (since_event_id = the first event)", rp.gateway),
          line("floor: better-sqlite3 pages of 100 → bare grpc-js server stream", rp.floor),
        ]),
        "",
        `The ledger rows (${int(rp.events + 1)} \`message\` events of one conversation) are inserted into a SQLite file made by`,
        "the real migrations (the store's `openDatabase`), then the gateway is started on it. The floor",
        "(bench/replay-floor.ts) serves the same StreamEvents method from the same file: it reads the rows with",
        "better-sqlite3 in pages of 100 (the spec's page) and writes each as `ClientStreamEvent{event}`. The same grpc-js",
        "client counts every event, checks their order, and cancels after the last.",
      ]),
    );
  }
  if (r.soak !== undefined) {
    const so = r.soak;
    out.push(
      ...section(`(5) Soak: ${int(so.requested)} turns at ${int(so.rate)}/s`, [
        table(["turns done", "failed", "achieved", "time", "RSS after warm-up → end", "p99 first 10 % → last 10 %", "user rows (lost/dup)", "reply rows (lost/dup)"], [
          [
            int(so.turns),
            String(so.errors),
            `${int(so.achievedRate)}/s`,
            `${(so.ms / 1000).toFixed(0)} s`,
            `${int(so.rss.baselineKib)} → ${int(so.rss.endKib)} KiB`,
            `${ms(so.p99.first)} → ${ms(so.p99.last)}`,
            `${int(so.rows.inbound.rows)} (${so.rows.inbound.lost}/${so.rows.inbound.duplicated})`,
            `${int(so.rows.outbound.rows)} (${so.rows.outbound.lost}/${so.rows.outbound.duplicated})`,
          ],
        ]),
        "",
        `The rate is ${so.rateSource}. Same agents and client as (1), open loop: turn k starts no earlier than k/rate s`,
        "after the start. RSS is read every 500 ms; drift compares the median of the second tenth of the run (after the",
        "first tenth as warm-up) with the median of the last tenth. After the gateway stopped, the ledger is counted in",
        "SQLite: each turn's user message (by its unique text) and reply (by the echoed text), exactly once each.",
        "Latency runs from the moment a turn is sent, so a gateway falling behind the rate shows in `achieved`.",
        ...(so.firstError !== undefined ? ["", `First failed turn: ${so.firstError}`] : []),
      ]),
    );
  }
  if (r.stream !== undefined) {
    out.push(
      ...section(`Text chunks per second: one request, ${int(settings.chunks)} chunks of 16 characters`, [
        "Every run is checked: all chunks arrive, in order, and their concatenation (and `done.full_response`) equals the",
        "scripted text. The floor is a grpc-js server stream of the same N protobuf frames to a grpc-js client.",
        "",
        table(["run", "chunks", "time", "rate", "CPU ms / 1k chunks"], [
          ...streamRows("gateway + lean agent", r.stream.lean),
          ...streamRows("gateway + fake-agent (script)", r.stream.fake),
          ...streamRows("floor (grpc-js server stream)", r.stream.floor),
          ...streamRows("gateway GET /ws + lean agent", r.stream.wsLean),
          ...streamRows("floor (bare ws server stream)", r.stream.wsFloor),
        ]),
        "",
        "The WS rows count `run` text events of one `send` on `GET /ws`; their floor is a bare `ws` server writing the same",
        "N event frames (same chunk text) as fast as its socket drains, to the same client code (bench/ws-client.ts).",
        "The verdict uses the median run of each side.",
      ]),
    );
  }
  if (r.metricsOverhead !== undefined) {
    out.push(
      ...section("Metrics cost: sequential lean-agent turns, metrics on vs `metrics.enabled: false`, alternating rounds", [
        `turns/s per round, on: ${r.metricsOverhead.on.map((v) => v.toFixed(1)).join(", ")}; off: ${r.metricsOverhead.off.map((v) => v.toFixed(1)).join(", ")}.`,
      ]),
    );
  }
  return out.join("\n");
}

/** A few lines for the terminal. */
export function renderSummary(r: BenchResults): string {
  const rows = verdictRows(r);
  const width = Math.max(...rows.map((row) => row.metric.length));
  const lines = rows.map(
    (row) => `${row.pass ? "PASS" : "FAIL"}  ${row.metric.padEnd(width)}  gateway ${row.gateway}  floor ${row.floor}  ratio ${row.ratio} (target ${row.target})`,
  );
  lines.push(`background load from other processes: ${r.backgroundCores.toFixed(2)} cores`);
  return lines.join("\n");
}
