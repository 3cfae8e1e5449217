// ABOUTME: `npm run bench`: persisted throughput, round trip, scale, replay, soak (issue 10) and streaming, pack-tool,
// ABOUTME: metrics cost, each against a floor in one run; summary (RESULTS.md with --write), exit 1 on a FAIL.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { backgroundCores, killAllChildren, readLoad, spawnNode } from "./child-process.js";
import { createFloorClient } from "./floor-client.js";
import { streamedText } from "./bench-protocol.js";
import { ENTRY, startFakeAgentProcess, startGatewayProcess, startLeanAgentProcess } from "./gateway-driver.js";
import {
  floorStreamRun,
  gatewaySendTarget,
  gatewayStreamRun,
  grpcPingPongTarget,
  sampleLatencies,
  sampleTurnRates,
  type StreamRun,
} from "./measurements.js";
import { latencyStats, renderMarkdown, renderSummary, verdictRows, type BenchResults } from "./report.js";
import { benchExitCode, parseBenchArgs, runs, type BenchSettings } from "./bench-args.js";
import { LOAD_CONFIG, measureSoak, measureThroughput } from "./throughput.js";
import { measureScale } from "./scale.js";
import { measureReplay } from "./replay.js";
import { openPackToolCaller } from "./pack-tool-target.js";
import { createSseClient } from "./sse-client.js";
import { floorWsStreamRun, gatewayWsStreamRun, openWsBenchClient } from "./ws-client.js";

type Settings = BenchSettings;

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const OVERALL_BUDGET_MS = 45 * 60 * 1000;
const REQUEST_TIMEOUT_MS = 30_000;
const STREAM_TIMEOUT_MS = 120_000;
const LEAN_AGENT = "bench-lean";
const FAKE_AGENT = "bench-fake";
const TOOL_CALLER = "bench-tool-caller";
const EXAMPLE_PACK = join(REPO, "packs", "example-time", "dist", "index.js");

function parseArgs(argv: string[]): Settings {
  return parseBenchArgs(argv, join(REPO, "bench", "RESULTS.md"), (p) => resolve(p));
}

/** The agent's script: `bench-stream <n>` streams n fixed-width chunks; anything else falls back to echo. */
function writeScript(dir: string, sizes: number[]): string {
  const path = join(dir, "stream-script.json");
  const rules = sizes.map((n) => ({ match: `/^bench-stream ${n}$/`, steps: [{ text: streamedText(n), chunks: n }, { done: true }] }));
  writeFileSync(path, JSON.stringify({ rules }));
  return path;
}

/** Latency and throughput against one gateway with two agents (lean grpc-js, fake-agent), and against the floors. */
async function measureTraffic(s: Settings): Promise<Required<Pick<BenchResults, "latency" | "stream">>> {
  const scratch = mkdtempSync(join(tmpdir(), "coven-bench-script-"));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(scratch, { recursive: true, force: true })];
  const track = (fn: () => Promise<void> | void) => cleanups.unshift(fn);
  try {
    const floorProc = spawnNode("floor", ENTRY.floor, []);
    track(() => floorProc.stop());
    const gateway = await startGatewayProcess({ nodeArgs: s.gatewayNodeArgs, configLines: LOAD_CONFIG });
    track(() => gateway.stop());
    const [, floorHttp, floorGrpc] = await floorProc.waitForLine(/^floor listening http=(\S+) grpc=(\S+)$/, 20_000);
    const warmChunks = Math.max(1, Math.floor(s.chunks / 10));
    const script = writeScript(scratch, [warmChunks, s.chunks]);
    const fake = await startFakeAgentProcess(gateway.grpcAddr, ["-id", FAKE_AGENT, "-done-delay-ms", "0", "-script", script]);
    track(() => fake.stop());
    const lean = await startLeanAgentProcess(gateway.grpcAddr, LEAN_AGENT);
    track(() => lean.stop());
    const pack = spawnNode("pack", EXAMPLE_PACK, [], { env: { ...process.env, COVEN_GATEWAY_GRPC: gateway.grpcAddr } });
    track(() => pack.stop());
    await pack.waitForLine(/^registered example-time /, 20_000);
    const toolCaller = await openPackToolCaller(gateway.grpcAddr, TOOL_CALLER, REQUEST_TIMEOUT_MS);
    track(() => toolCaller.close());
    const gwClient = createSseClient(gateway.httpUrl);
    const floorSse = createSseClient(`http://${floorHttp}`);
    const floorGrpcClient = createFloorClient(floorGrpc!);
    track(() => gwClient.close());
    track(() => floorSse.close());
    track(() => floorGrpcClient.close());
    const gwWs = await openWsBenchClient(`${gateway.httpUrl.replace(/^http/, "ws")}/ws`, { hello: true });
    const floorWs = await openWsBenchClient(`ws://${floorHttp}/ws-floor`, { hello: false });
    track(() => gwWs.close());
    track(() => floorWs.close());

    console.log(`(a) send round trip: ${s.warmup} warm-up + ${s.rounds}×${s.perRound} samples per target`);
    const samples = await sampleLatencies(
      [
        gatewaySendTarget("lean", gwClient, LEAN_AGENT, { gateway: gateway.child.pid, agent: lean.pid }, REQUEST_TIMEOUT_MS),
        gatewaySendTarget("fake", gwClient, FAKE_AGENT, { gateway: gateway.child.pid, agent: fake.pid }, REQUEST_TIMEOUT_MS),
        gatewaySendTarget("sse-floor", floorSse, "floor", { floor: floorProc.pid }, REQUEST_TIMEOUT_MS),
        grpcPingPongTarget("grpc-floor", floorGrpcClient, { floor: floorProc.pid }),
        toolCaller.target("pack-tool", { gateway: gateway.child.pid, pack: pack.pid }),
      ],
      { warmup: s.warmup, rounds: s.rounds, perRound: s.perRound, budgetMs: 180_000 },
    );

    console.log(`(b) streaming: ${s.streamRuns} run(s) of ${s.chunks} chunks per target (after a ${warmChunks}-chunk warm-up)`);
    const runs = {
      lean: (n: number) => gatewayStreamRun(gwClient, LEAN_AGENT, n, { gateway: gateway.child.pid, agent: lean.pid }, STREAM_TIMEOUT_MS),
      fake: (n: number) => gatewayStreamRun(gwClient, FAKE_AGENT, n, { gateway: gateway.child.pid, agent: fake.pid }, STREAM_TIMEOUT_MS),
      floor: (n: number) => floorStreamRun(floorGrpcClient, n, { floor: floorProc.pid }, STREAM_TIMEOUT_MS),
      wsLean: (n: number) => gatewayWsStreamRun(gwWs, LEAN_AGENT, n, { gateway: gateway.child.pid, agent: lean.pid }, STREAM_TIMEOUT_MS),
      wsFloor: (n: number) => floorWsStreamRun(floorWs, n, { floor: floorProc.pid }, STREAM_TIMEOUT_MS),
    };
    const keys = ["lean", "fake", "floor", "wsLean", "wsFloor"] as const;
    const stream = { lean: [] as StreamRun[], fake: [] as StreamRun[], floor: [] as StreamRun[], wsLean: [] as StreamRun[], wsFloor: [] as StreamRun[] };
    for (const key of keys) await runs[key](warmChunks);
    for (let i = 0; i < s.streamRuns; i++) {
      for (const key of keys) stream[key].push(await runs[key](s.chunks));
    }
    return {
      latency: {
        lean: latencyStats(samples.get("lean")!),
        fake: latencyStats(samples.get("fake")!),
        sseFloor: latencyStats(samples.get("sse-floor")!),
        grpcFloor: latencyStats(samples.get("grpc-floor")!),
        packTool: latencyStats(samples.get("pack-tool")!),
      },
      stream,
    };
  } finally {
    await runCleanups(cleanups);
  }
}

/**
 * The cost of recording metrics: the same lean-agent turn against a gateway with metrics (the default) and one with
 * `metrics.enabled: false`, in alternating rounds.
 */
async function measureMetricsOverhead(s: Settings): Promise<{ on: number[]; off: number[] }> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const track = (fn: () => Promise<void> | void) => cleanups.unshift(fn);
  try {
    const on = await startGatewayProcess({ nodeArgs: s.gatewayNodeArgs, configLines: LOAD_CONFIG });
    track(() => on.stop());
    const off = await startGatewayProcess({ nodeArgs: s.gatewayNodeArgs, configLines: [...LOAD_CONFIG, "metrics:", "  enabled: false"] });
    track(() => off.stop());
    const onAgent = await startLeanAgentProcess(on.grpcAddr, LEAN_AGENT);
    track(() => onAgent.stop());
    const offAgent = await startLeanAgentProcess(off.grpcAddr, LEAN_AGENT);
    track(() => offAgent.stop());
    const onClient = createSseClient(on.httpUrl);
    const offClient = createSseClient(off.httpUrl);
    track(() => onClient.close());
    track(() => offClient.close());
    console.log(`(d) metrics cost: ${s.rounds}×${s.perRound} sequential turns per gateway, metrics on vs off`);
    return await sampleTurnRates(
      {
        on: gatewaySendTarget("metrics-on", onClient, LEAN_AGENT, { gateway: on.child.pid }, REQUEST_TIMEOUT_MS),
        off: gatewaySendTarget("metrics-off", offClient, LEAN_AGENT, { gateway: off.child.pid }, REQUEST_TIMEOUT_MS),
      },
      { warmup: s.warmup, rounds: Math.max(s.rounds, 4), perRound: s.perRound * 2 },
    );
  } finally {
    await runCleanups(cleanups);
  }
}

/** Runs `body` and prints how long it took, so slow phases of a run are visible. */
async function timed<T>(label: string, body: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await body();
  } finally {
    console.log(`    ${label} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** Runs every cleanup even when one fails; failures are reported, never allowed to mask the run's own error. */
async function runCleanups(cleanups: Array<() => Promise<void> | void>): Promise<void> {
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (err) {
      console.error(`bench: cleanup failed: ${(err as Error).message}`);
    }
  }
}

async function main(): Promise<void> {
  const s = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const load0 = readLoad();
  const watchdog = setTimeout(() => {
    console.error(`bench: overall budget of ${OVERALL_BUDGET_MS / 1000} s exceeded; killing children`);
    killAllChildren();
    process.exit(1);
  }, OVERALL_BUDGET_MS);
  try {
    if (s.metricsOnly) {
      const { on, off } = await measureMetricsOverhead(s);
      const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)] ?? 0;
      const ratio = med(on) / med(off);
      console.log(`\n${ratio >= 0.95 ? "PASS" : "FAIL"}  turns/s with metrics ${med(on).toFixed(1)}/s vs metrics.enabled: false ${med(off).toFixed(1)}/s  ratio ${ratio.toFixed(3)}× (target ≥ 0.95×)`);
      console.log(`rounds on: ${on.map((v) => v.toFixed(1)).join(" ")}; off: ${off.map((v) => v.toFixed(1)).join(" ")}`);
      console.log(`background load from other processes: ${backgroundCores(load0, readLoad()).toFixed(2)} cores`);
      if (ratio < 0.95 && s.failOnFail) process.exitCode = 1;
      return;
    }
    const results: BenchResults = {
      date: new Date(started).toISOString(),
      durationMs: 0,
      backgroundCores: 0,
      settings: { warmup: s.warmup, samples: s.rounds * s.perRound, chunks: s.chunks, streamRuns: s.streamRuns, throughput: s.throughput, quick: s.quick },
      ...(s.note !== undefined ? { note: s.note } : {}),
    };
    if (runs(s, "throughput")) {
      const t = s.throughput;
      console.log(`(1) persisted throughput: ${t.agents} agents, ${t.clients} clients, ${t.durationMs / 1000} s per side (relay floor, then gateway)`);
      results.throughput = await timed("(1)", () => measureThroughput({ ...t, gatewayNodeArgs: s.gatewayNodeArgs }));
    }
    if (runs(s, "latency") || runs(s, "stream")) Object.assign(results, await timed("(2) and streaming", () => measureTraffic(s)));
    if (runs(s, "scale")) {
      console.log(`(3) scale: ${s.scale.agents} idle agents, ${s.scale.perProcess} per process`);
      results.scale = await timed("(3)", () => measureScale({ ...s.scale, gatewayNodeArgs: s.gatewayNodeArgs }));
    }
    if (runs(s, "replay")) {
      console.log(`(4) StreamEvents replay of ${s.replayEvents} ledger events`);
      results.replay = await timed("(4)", () => measureReplay(s.replayEvents, s.gatewayNodeArgs));
    }
    if (runs(s, "soak")) {
      const measured = results.throughput?.gateway.turnsPerSecond;
      const rate = s.soak.rate ?? (measured !== undefined ? measured * s.soak.fraction : undefined);
      if (rate === undefined) throw new Error("the soak needs figure 1's maximum (run it too) or --soak-rate N");
      const rateSource =
        s.soak.rate !== undefined ? "fixed by --soak-rate" : `${Math.round(s.soak.fraction * 100)} % of the gateway's ${Math.round(measured!)} turns/s in (1)`;
      const turns = s.soak.maxSeconds === undefined ? s.soak.turns : Math.min(s.soak.turns, Math.max(1_000, Math.round(rate * s.soak.maxSeconds)));
      console.log(`(5) soak: ${turns} turns at ${rate.toFixed(0)}/s (${rateSource})`);
      results.soak = await timed("(5)", () => measureSoak({
        agents: s.throughput.agents,
        clients: s.throughput.clients,
        turns,
        rate,
        rateSource,
        gatewayNodeArgs: s.gatewayNodeArgs,
      }));
    }
    if (runs(s, "metrics")) results.metricsOverhead = await timed("metrics cost", () => measureMetricsOverhead(s));
    results.durationMs = Date.now() - started;
    results.backgroundCores = backgroundCores(load0, readLoad());
    console.log(`\n${renderSummary(results)}\n`);
    if (s.out === undefined) console.log("results not written (pass --write to update bench/RESULTS.md)");
    else {
      writeFileSync(s.out, renderMarkdown(results));
      console.log(`wrote ${s.out}`);
    }
    process.exitCode = benchExitCode(verdictRows(results), s);
    if (process.exitCode !== 0) console.error("bench: at least one verdict is FAIL (pass --no-fail to exit 0 anyway)");
  } finally {
    clearTimeout(watchdog);
  }
}

try {
  await main();
} catch (err) {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  killAllChildren();
  process.exitCode = 1;
}
