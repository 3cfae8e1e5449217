// ABOUTME: The sequential measurements: send round-trip latency, streamed chunks per second, turns/s per round.
// ABOUTME: Each is bounded in count and time and checks its own results (every chunk, in order, nothing lost).
import { readCpuMs } from "./child-process.js";
import type { FloorClient } from "./floor-client.js";
import { streamedText } from "./bench-protocol.js";
import type { SseClient } from "./sse-client.js";

/** Something timed one round trip at a time; `pids` are the child processes whose CPU it is charged with. */
export interface LatencyTarget {
  name: string;
  pids: Record<string, number>;
  /** Runs one round trip; resolves with the `performance.now()` at which it counted as complete. */
  roundTrip(i: number): Promise<number>;
}

export interface LatencyPlan {
  warmup: number;
  rounds: number;
  perRound: number;
  /** Wall-clock budget for the whole sampling phase; rounds stop early when it runs out. */
  budgetMs: number;
}

/** One target's latencies (ms) and the CPU its processes spent per round trip (ms, by process name). */
export interface LatencySamples {
  samples: number[];
  cpuMsPerRoundTrip: Record<string, number>;
}

/**
 * Warms every target up, then samples them in interleaved rounds (A×k, B×k, C×k, A×k, …) so drift in machine
 * state hits all targets alike. Returns the latencies and CPU cost per target name.
 */
export async function sampleLatencies(targets: LatencyTarget[], plan: LatencyPlan): Promise<Map<string, LatencySamples>> {
  let seq = 0;
  for (const target of targets) for (let i = 0; i < plan.warmup; i++) await target.roundTrip(seq++);
  const results = new Map(targets.map((t) => [t.name, { samples: [] as number[], cpuMs: {} as Record<string, number> }]));
  const deadline = Date.now() + plan.budgetMs;
  for (let round = 0; round < plan.rounds && Date.now() < deadline; round++) {
    for (const target of targets) {
      const into = results.get(target.name)!;
      const cpu0 = cpuSnapshot(target.pids);
      for (let i = 0; i < plan.perRound; i++) {
        const t0 = performance.now();
        const t1 = await target.roundTrip(seq++);
        into.samples.push(t1 - t0);
      }
      for (const [proc, ms] of Object.entries(cpuDelta(cpu0, cpuSnapshot(target.pids)))) into.cpuMs[proc] = (into.cpuMs[proc] ?? 0) + ms;
    }
  }
  return new Map(
    [...results].map(([name, r]) => [
      name,
      { samples: r.samples, cpuMsPerRoundTrip: Object.fromEntries(Object.entries(r.cpuMs).map(([proc, ms]) => [proc, ms / Math.max(1, r.samples.length)])) },
    ]),
  );
}

/**
 * POST /api/send to an echo agent (or the SSE floor). Complete when the `done` frame is parsed; the promise still
 * waits for the end of the response, so requests stay strictly sequential. Throws on a wrong reply.
 */
export function gatewaySendTarget(name: string, client: SseClient, agentId: string, pids: Record<string, number>, timeoutMs: number): LatencyTarget {
  return {
    name,
    pids,
    async roundTrip(i) {
      const content = `ping ${i}`;
      let text = "";
      let terminal = "";
      let doneAt = 0;
      await client.post("/api/send", { agent_id: agentId, sender: "bench", content }, (frame) => {
        if (frame.event === "text") text += (JSON.parse(frame.data) as { text: string }).text;
        else if (frame.event !== "started") {
          terminal = frame.event;
          doneAt = performance.now();
        }
      }, timeoutMs);
      if (terminal !== "done" || !text.includes(`**${content}**`)) throw new Error(`${name}: bad reply (${terminal}): ${text}`);
      return doneAt;
    },
  };
}

/** The gRPC ping-pong floor as a latency target. */
export function grpcPingPongTarget(name: string, floor: FloorClient, pids: Record<string, number>): LatencyTarget {
  return {
    name,
    pids,
    async roundTrip(i) {
      await floor.pingPong(i);
      return performance.now();
    },
  };
}

/** One streamed run: how many chunks arrived, how fast, and the CPU each process spent. */
export interface StreamRun {
  chunks: number;
  ms: number;
  chunksPerSecond: number;
  /** CPU ms spent per process during the run (name -> ms). */
  cpuMs: Record<string, number>;
}

function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const self = process.cpuUsage();
  const out: Record<string, number> = { client: (self.user + self.system) / 1000 };
  for (const [name, pid] of Object.entries(pids)) out[name] = readCpuMs(pid);
  return out;
}

function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(before).map((k) => [k, after[k]! - before[k]!]));
}

/**
 * One request whose agent streams `n` chunks (script rule `bench-stream`), counted at the SSE client. Throws unless
 * exactly `n` text frames arrived whose concatenation, and `done.full_response`, equal the scripted text.
 */
export async function gatewayStreamRun(
  client: SseClient,
  agentId: string,
  n: number,
  pids: Record<string, number>,
  timeoutMs: number,
): Promise<StreamRun> {
  const expected = streamedText(n);
  const parts: string[] = [];
  let done: string | undefined;
  let terminal = "";
  const cpu0 = cpuSnapshot(pids);
  const t0 = performance.now();
  await client.post("/api/send", { agent_id: agentId, sender: "bench", content: `bench-stream ${n}` }, (frame) => {
    if (frame.event === "text") parts.push((JSON.parse(frame.data) as { text: string }).text);
    else if (frame.event !== "started") {
      terminal = frame.event;
      if (frame.event === "done") done = (JSON.parse(frame.data) as { full_response: string }).full_response;
    }
  }, timeoutMs);
  const ms = performance.now() - t0;
  const cpuMs = cpuDelta(cpu0, cpuSnapshot(pids));
  const text = parts.join("");
  if (terminal !== "done") throw new Error(`gateway stream ended with '${terminal}' after ${parts.length} chunks`);
  if (parts.length !== n) throw new Error(`gateway stream lost chunks: ${parts.length} of ${n} arrived`);
  if (text !== expected) throw new Error("gateway stream text differs from the scripted text");
  if (done !== expected) throw new Error("gateway stream done.full_response differs from the scripted text");
  return { chunks: n, ms, chunksPerSecond: (n * 1000) / ms, cpuMs };
}

/** Times `body` (which checks its own stream) and the CPU every process spent meanwhile. */
export async function measureRun(n: number, pids: Record<string, number>, body: () => Promise<void>): Promise<StreamRun> {
  const cpu0 = cpuSnapshot(pids);
  const t0 = performance.now();
  await body();
  const ms = performance.now() - t0;
  return { chunks: n, ms, chunksPerSecond: (n * 1000) / ms, cpuMs: cpuDelta(cpu0, cpuSnapshot(pids)) };
}

/** The bare grpc-js server-streaming floor for `n` chunks, with the same checks. */
export async function floorStreamRun(floor: FloorClient, n: number, pids: Record<string, number>, timeoutMs: number): Promise<StreamRun> {
  const expected = streamedText(n);
  const cpu0 = cpuSnapshot(pids);
  const t0 = performance.now();
  const result = await floor.stream(n, timeoutMs);
  const ms = performance.now() - t0;
  const cpuMs = cpuDelta(cpu0, cpuSnapshot(pids));
  if (!result.sawDone || result.chunks !== n || result.text !== expected) {
    throw new Error(`floor stream incomplete: ${result.chunks} of ${n} chunks, done=${result.sawDone}`);
  }
  return { chunks: n, ms, chunksPerSecond: (n * 1000) / ms, cpuMs };
}

/** Sequential turns per second of one target, per round (ops.md issue 13: the cost of recording metrics). */
export interface TurnRateSamples {
  on: number[];
  off: number[];
}

/**
 * Alternates rounds of `perRound` sequential sends between the gateway with metrics and the one without, so drift
 * and background load hit both alike. Returns turns/s per round for each.
 */
export async function sampleTurnRates(
  targets: { on: LatencyTarget; off: LatencyTarget },
  plan: { warmup: number; rounds: number; perRound: number },
): Promise<TurnRateSamples> {
  const out: TurnRateSamples = { on: [], off: [] };
  let i = 0;
  for (const key of ["on", "off"] as const) for (let w = 0; w < plan.warmup; w++) await targets[key].roundTrip(i++);
  for (let round = 0; round < plan.rounds; round++) {
    const order = round % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
    for (const key of order) {
      const started = performance.now();
      for (let n = 0; n < plan.perRound; n++) await targets[key].roundTrip(i++);
      out[key].push((plan.perRound * 1000) / (performance.now() - started));
    }
  }
  return out;
}
