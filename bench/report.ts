// ABOUTME: Turns raw benchmark figures into verdicts, the bench/RESULTS.md document and a console summary.
// ABOUTME: Functions of a plain results object (plus the machine's description), kept apart from the measuring.
import { cpus, totalmem, release } from "node:os";
import type { IdleRss, LatencySamples, StreamRun } from "./measurements.js";

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
  settings: { warmup: number; samples: number; chunks: number; streamRuns: number; agents: number };
  /** `packTool`: ExecutePackTool → example-time `echo` → PackToolResult, through the gateway. */
  latency: { lean: LatencyStats; fake: LatencyStats; sseFloor: LatencyStats; grpcFloor: LatencyStats; packTool: LatencyStats };
  stream: { lean: StreamRun[]; fake: StreamRun[]; floor: StreamRun[]; wsLean: StreamRun[]; wsFloor: StreamRun[] };
  rss: IdleRss;
  /** Sequential turns/s per round, gateway with metrics (`on`, the default) and with `metrics.enabled: false`. */
  metricsOverhead?: { on: number[]; off: number[] };
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
  const { sseFloor, grpcFloor } = r.latency;
  const floorP50 = sseFloor.p50 + grpcFloor.p50;
  const floorP99 = sseFloor.p99 + grpcFloor.p99;
  const floorRate = medianRun(r.stream.floor).chunksPerSecond;
  const rows: Row[] = [];
  for (const agent of ["lean", "fake"] as const) {
    const lat = r.latency[agent];
    const rate = medianRun(r.stream[agent]).chunksPerSecond;
    const who = AGENTS[agent];
    rows.push(
      { metric: `send round trip p50 (${who})`, gateway: ms(lat.p50), floor: ms(floorP50), ratio: x(lat.p50 / floorP50), target: "≤ 1.5×", pass: lat.p50 / floorP50 <= 1.5 },
      { metric: `send round trip p99 (${who})`, gateway: ms(lat.p99), floor: ms(floorP99), ratio: x(lat.p99 / floorP99), target: "≤ 2×", pass: lat.p99 / floorP99 <= 2 },
      {
        metric: `text chunks/s agent → SSE (${who})`,
        gateway: `${int(rate)}/s`,
        floor: `${int(floorRate)}/s`,
        ratio: x(rate / floorRate),
        target: "≥ 0.5×",
        pass: rate / floorRate >= 0.5,
      },
    );
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
  const tool = r.latency.packTool;
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
  rows.push({
    metric: `RSS per idle agent (${int(r.rss.agents)} fake-agents)`,
    gateway: `${r.rss.perAgentKib.toFixed(1)} KiB`,
    floor: "—",
    ratio: "—",
    target: "≤ 60 KiB",
    pass: r.rss.perAgentKib <= 60,
  });
  return rows;
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

/** The whole bench/RESULTS.md document. */
export function renderMarkdown(r: BenchResults): string {
  const rows = verdictRows(r);
  const { rss, settings } = r;
  return [
    "# coven-gateway benchmark results",
    "",
    `Generated by \`npm run bench\` on ${r.date} in ${(r.durationMs / 1000).toFixed(0)} s. Loopback only; the gateway`,
    "(`coven-gateway serve`, temp SQLite, auth off, JSON logs at info), the agents and the floor servers each run in",
    "their own child process; the measuring client is the bench process (`client` in the CPU columns).",
    "",
    "Two agents are measured. `lean` is bench/lean-agent.ts, a minimal agent on grpc-js, the library the floors use, so",
    "its ratio charges the gateway alone; `fake-agent` is cmd/fake-agent as shipped (connect-node), so its figures",
    "include that agent's own cost. CPU columns come from /proc/<pid>/stat (10 ms ticks), summed over the samples.",
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
    `### (a) Send round trip: POST /api/send → SSE \`done\` (${settings.warmup} warm-up, then interleaved rounds, sequential)`,
    "",
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
    "",
    `### (b) Text chunks per second: one request, ${int(settings.chunks)} chunks of 16 characters`,
    "",
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
    "",
    "The verdict uses the median run of each side.",
    "",
    `### (c) Gateway RSS with ${int(rss.agents)} idle agents`,
    "",
    table(["before", "after", "delta", "per agent", "all connected after"], [
      [`${int(rss.beforeKib)} KiB`, `${int(rss.afterKib)} KiB`, `${int(rss.afterKib - rss.beforeKib)} KiB`, `${rss.perAgentKib.toFixed(1)} KiB`, ms(rss.connectMs)],
    ]),
    "",
    "VmRSS of the gateway process, median of five readings after settling; the agents are one `fake-agent -instances`",
    "process, each instance with its own HTTP/2 connection, and the gateway confirmed them on `/health/ready`.",
    "",
  ].join("\n");
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
