// ABOUTME: Issue 10 figures 1 and 5: persisted turns/s of the gateway against the relay floor (same agents, same
// ABOUTME: client, each in its own process) and the soak at a fixed rate with RSS drift, p99 drift and a row count.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { readCpuMs, readRssKib, spawnNode, type ChildHandle } from "./child-process.js";
import { ENTRY, startAgentFleet, startGatewayProcess } from "./gateway-driver.js";
import { percentile, rowCheck, rssDrift, windowP99, type RssSample } from "./figures.js";
import type { LoadPlan, LoadResult } from "./load-client.js";

/** The gateway config of every load figure: the per-address rate limit would cap one loopback client at 100/s. */
export const LOAD_CONFIG = ["rate_limits:", "  enabled: false"];

const FLEET_PREFIX = "tp";
const START_TIMEOUT_MS = 60_000;

/** One closed-loop throughput run against one server. */
export interface ThroughputRun {
  turns: number;
  errors: number;
  firstError?: string;
  ms: number;
  turnsPerSecond: number;
  /** Server (gateway or relay) CPU per turn, ms. */
  serverCpuMsPerTurn: number;
  /** Average cores busy in each process during the measured phase. */
  cores: { server: number; agents: number; client: number };
  p50: number;
  p99: number;
}

export interface ThroughputSettings {
  agents: number;
  clients: number;
  warmupMs: number;
  durationMs: number;
  gatewayNodeArgs: string[];
}

/** A server under load: its pid, addresses and how to stop it. */
interface Server {
  pid: number;
  httpUrl: string;
  grpcAddr: string;
  stop(): Promise<void>;
}

async function startRelay(dir: string): Promise<Server> {
  const child = spawnNode("relay-floor", ENTRY.relayFloor, [join(dir, "relay.db")]);
  const [, http, grpc] = await child.waitForLine(/^relay listening http=(\S+) grpc=(\S+)$/, START_TIMEOUT_MS);
  return { pid: child.pid, httpUrl: `http://${http}`, grpcAddr: grpc!, stop: () => child.stop() };
}

/** Runs the load client with `plan` against `server`'s agents; CPU and RSS are read around the measured phase. */
async function drive(
  server: Server,
  fleet: ChildHandle,
  plan: Omit<LoadPlan, "url" | "agentPrefix" | "latencyFile">,
  scratch: string,
  onSample?: (atMs: number) => void,
): Promise<{ result: LoadResult; latencies: Float64Array; cpuMs: { server: number; agents: number; client: number } }> {
  const latencyFile = join(scratch, `latencies-${plan.tag}.bin`);
  const full: LoadPlan = { ...plan, url: server.httpUrl, agentPrefix: FLEET_PREFIX, latencyFile };
  const client = spawnNode(`load-client ${plan.tag}`, ENTRY.loadClient, [JSON.stringify(full)]);
  try {
    const limit = plan.warmupMs + (plan.durationMs ?? ((plan.turns ?? 0) * 1000) / (plan.rate ?? 1)) * 3 + 120_000;
    await client.waitForLine(/^phase measure$/, plan.warmupMs + START_TIMEOUT_MS);
    const cpu = () => ({ server: readCpuMs(server.pid), agents: readCpuMs(fleet.pid), client: readCpuMs(client.pid) });
    const cpu0 = cpu();
    const t0 = performance.now();
    const sampler = onSample === undefined ? undefined : setInterval(() => onSample(performance.now() - t0), 500);
    let line: RegExpExecArray;
    try {
      line = await client.waitForLine(/^phase end (\{.*\})$/, limit);
    } finally {
      if (sampler !== undefined) clearInterval(sampler);
    }
    const cpu1 = cpu();
    const result = JSON.parse(line[1]!) as LoadResult;
    const bytes = readFileSync(latencyFile);
    const latencies = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    return { result, latencies, cpuMs: { server: cpu1.server - cpu0.server, agents: cpu1.agents - cpu0.agents, client: cpu1.client - cpu0.client } };
  } finally {
    await client.stop();
  }
}

function toRun(result: LoadResult, latencies: Float64Array, cpuMs: { server: number; agents: number; client: number }): ThroughputRun {
  const turns = Math.max(1, result.turns);
  const cores = (v: number) => v / Math.max(1, result.ms);
  return {
    turns: result.turns,
    errors: result.errors,
    ...(result.firstError ? { firstError: result.firstError } : {}),
    ms: result.ms,
    turnsPerSecond: (result.turns * 1000) / result.ms,
    serverCpuMsPerTurn: cpuMs.server / turns,
    cores: { server: cores(cpuMs.server), agents: cores(cpuMs.agents), client: cores(cpuMs.client) },
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function oneThroughput(name: "floor" | "gateway", s: ThroughputSettings, scratch: string): Promise<ThroughputRun> {
  const gateway = name === "gateway" ? await startGatewayProcess({ nodeArgs: s.gatewayNodeArgs, configLines: LOAD_CONFIG }) : undefined;
  const server: Server = gateway
    ? { pid: gateway.child.pid, httpUrl: gateway.httpUrl, grpcAddr: gateway.grpcAddr, stop: () => gateway.stop() }
    : await startRelay(scratch);
  let fleet: ChildHandle | undefined;
  try {
    fleet = await startAgentFleet(server.grpcAddr, FLEET_PREFIX, s.agents, START_TIMEOUT_MS);
    const { result, latencies, cpuMs } = await drive(
      server,
      fleet,
      { agentCount: s.agents, concurrency: s.clients, warmupMs: s.warmupMs, durationMs: s.durationMs, tag: `tp-${name}` },
      scratch,
    );
    return toRun(result, latencies, cpuMs);
  } finally {
    await fleet?.kill();
    await server.stop();
  }
}

/** Figure 1: the relay floor, then the gateway, each with a fresh database, fleet and client. */
export async function measureThroughput(s: ThroughputSettings): Promise<{ floor: ThroughputRun; gateway: ThroughputRun }> {
  const scratch = mkdtempSync(join(tmpdir(), "coven-bench-tp-"));
  try {
    const floor = await oneThroughput("floor", s, scratch);
    const gateway = await oneThroughput("gateway", s, scratch);
    return { floor, gateway };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface SoakSettings {
  agents: number;
  clients: number;
  turns: number;
  rate: number;
  /** Where the rate came from, for the report. */
  rateSource: string;
  gatewayNodeArgs: string[];
}

export interface SoakResult {
  turns: number;
  requested: number;
  rate: number;
  rateSource: string;
  achievedRate: number;
  errors: number;
  firstError?: string;
  ms: number;
  rss: { baselineKib: number; endKib: number; drift: number };
  p99: { first: number; last: number };
  rows: { inbound: { lost: number; duplicated: number; rows: number }; outbound: { lost: number; duplicated: number; rows: number } };
}

const SOAK_TAG = "soak";

/** Counts the soak's rows in the gateway's SQLite: user messages by text, replies by their echoed text. */
function countSoakRows(dbPath: string): { inbound: { rows: number; distinct: number }; outbound: { rows: number; distinct: number } } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const count = (direction: string, pattern: string) =>
      db
        .prepare("SELECT count(*) AS rows, count(DISTINCT text) AS \"distinct\" FROM ledger_events WHERE direction = ? AND type = 'message' AND text LIKE ?")
        .get(direction, pattern) as { rows: number; distinct: number };
    return { inbound: count("inbound_to_agent", `${SOAK_TAG} %`), outbound: count("outbound_from_agent", `%**${SOAK_TAG} %`) };
  } finally {
    db.close();
  }
}

/** Figure 5: `turns` turns at `rate`/s against one gateway; RSS every 500 ms; rows counted after the gateway stopped. */
export async function measureSoak(s: SoakSettings): Promise<SoakResult> {
  const scratch = mkdtempSync(join(tmpdir(), "coven-bench-soak-"));
  const gateway = await startGatewayProcess({ nodeArgs: s.gatewayNodeArgs, configLines: LOAD_CONFIG, dir: scratch, keepDir: true });
  const server: Server = { pid: gateway.child.pid, httpUrl: gateway.httpUrl, grpcAddr: gateway.grpcAddr, stop: () => gateway.stop() };
  let fleet: ChildHandle | undefined;
  try {
    fleet = await startAgentFleet(server.grpcAddr, FLEET_PREFIX, s.agents, START_TIMEOUT_MS);
    const samples: RssSample[] = [];
    const { result, latencies } = await drive(
      server,
      fleet,
      { agentCount: s.agents, concurrency: s.clients, warmupMs: 1_000, turns: s.turns, rate: s.rate, tag: SOAK_TAG },
      scratch,
      (atMs) => samples.push({ atMs, kib: readRssKib(server.pid) }),
    );
    await fleet.kill();
    fleet = undefined;
    await gateway.stop();
    const counted = countSoakRows(gateway.dbPath);
    const inbound = rowCheck(s.turns, counted.inbound);
    const outbound = rowCheck(s.turns, counted.outbound);
    return {
      turns: result.turns,
      requested: s.turns,
      rate: s.rate,
      rateSource: s.rateSource,
      achievedRate: (result.turns * 1000) / result.ms,
      errors: result.errors,
      ...(result.firstError ? { firstError: result.firstError } : {}),
      ms: result.ms,
      rss: rssDrift(samples, result.ms, 0.1),
      p99: windowP99(latencies, 0.1),
      rows: { inbound: { ...inbound, rows: counted.inbound.rows }, outbound: { ...outbound, rows: counted.outbound.rows } },
    };
  } finally {
    await fleet?.kill();
    await gateway.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
