// ABOUTME: Runs the real gateway (`coven-gateway serve`) and fake agents as child processes for the benchmark.
// ABOUTME: Temp config and database per gateway, loopback port 0, addresses read from the JSON startup log.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { get } from "node:http";
import { spawnNode, type ChildHandle } from "./child-process.js";

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Compiled entry points, relative to this compiled file (dist/bench/). */
export const ENTRY = {
  gateway: join(DIST, "cmd", "coven-gateway.js"),
  fakeAgent: join(DIST, "cmd", "fake-agent.js"),
  floor: join(DIST, "bench", "floor-server.js"),
  leanAgent: join(DIST, "bench", "lean-agent.js"),
  agentFleet: join(DIST, "bench", "agent-fleet.js"),
  relayFloor: join(DIST, "bench", "relay-floor.js"),
  loadClient: join(DIST, "bench", "load-client.js"),
  replayFloor: join(DIST, "bench", "replay-floor.js"),
};

const START_TIMEOUT_MS = 20_000;

/** A gateway child process and where it listens. */
export interface GatewayProcess {
  child: ChildHandle;
  grpcAddr: string;
  httpUrl: string;
  /** The gateway's SQLite file (kept until `stop`). */
  dbPath: string;
  stop(): Promise<void>;
}

/**
 * Starts `coven-gateway serve` with a temp YAML config (loopback port 0, temp SQLite, auth off, JSON logs at
 * info) and resolves once both listeners are logged. The temp directory is removed on stop.
 */
export async function startGatewayProcess(
  options: { nodeArgs?: string[]; configLines?: string[]; fdLimit?: number; dir?: string; keepDir?: boolean } = {},
): Promise<GatewayProcess> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "coven-bench-"));
  const dbPath = join(dir, "gateway.db");
  const configPath = join(dir, "gateway.yaml");
  writeFileSync(
    configPath,
    [
      "server:",
      '  grpc_addr: "127.0.0.1:0"',
      '  http_addr: "127.0.0.1:0"',
      "database:",
      `  path: ${JSON.stringify(dbPath)}`,
      "logging:",
      '  level: "info"',
      '  format: "json"',
      ...(options.configLines ?? []),
      "",
    ].join("\n"),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, COVEN_CONFIG: configPath, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, NO_COLOR: "1" };
  delete env.COVEN_DB_PATH;
  delete env.COVEN_GATEWAY_URL;
  delete env.COVEN_MCP_ENDPOINT;
  const child = spawnNode("gateway", ENTRY.gateway, ["serve"], { env, nodeArgs: options.nodeArgs, fdLimit: options.fdLimit });
  const stop = async () => {
    await child.stop(8_000);
    if (options.keepDir !== true) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const grpcLine = await child.waitForLine(/"msg":"gRPC server listening".*"addr":"([^"]+)"/, START_TIMEOUT_MS);
    const httpLine = await child.waitForLine(/"msg":"HTTP server listening".*"addr":"([^"]+)"/, START_TIMEOUT_MS);
    return { child, grpcAddr: grpcLine[1]!, httpUrl: `http://${httpLine[1]!}`, dbPath, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Starts `fake-agent` against `grpcAddr` with extra flags. With one instance it resolves after the agent logged
 * its registration; with many, use `waitForAgents` on the gateway instead.
 */
export async function startFakeAgentProcess(grpcAddr: string, flags: string[], instances = 1): Promise<ChildHandle> {
  const child = spawnNode("fake-agent", ENTRY.fakeAgent, ["-addr", grpcAddr, "-instances", String(instances), ...flags]);
  if (instances === 1) {
    try {
      await child.waitForLine(/^registered as /, START_TIMEOUT_MS);
    } catch (err) {
      await child.stop();
      throw err;
    }
  }
  return child;
}

/** Starts the lean grpc-js agent (bench/lean-agent.ts) and resolves once it is registered. */
export async function startLeanAgentProcess(grpcAddr: string, agentId: string): Promise<ChildHandle> {
  const child = spawnNode("lean-agent", ENTRY.leanAgent, [grpcAddr, agentId]);
  try {
    await child.waitForLine(/^registered as /, START_TIMEOUT_MS);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return child;
}

/** Starts bench/agent-fleet.ts with `count` agents `<prefix>-<i>` and resolves once all are registered. */
export async function startAgentFleet(grpcAddr: string, prefix: string, count: number, timeoutMs: number): Promise<ChildHandle> {
  const child = spawnNode(`fleet ${prefix}`, ENTRY.agentFleet, [grpcAddr, prefix, String(count)]);
  try {
    await child.waitForLine(/^fleet registered \d+$/, timeoutMs);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return child;
}

/**
 * GET over a fresh connection that is closed after the answer (`connection: close`, no agent), so probing the
 * gateway never leaves a keep-alive socket open in it: the scale figure counts the gateway's file descriptors.
 */
export function httpGet(url: string, timeoutMs = 30_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (part: string) => (body += part));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/** Polls `GET /health/ready` until it answers `ready (<n> agents)`; rejects after `timeoutMs`. */
export async function waitForAgents(httpUrl: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const want = n === 0 ? "no agents connected" : `ready (${n} agents)`;
  let last = "";
  while (Date.now() < deadline) {
    try {
      last = (await httpGet(`${httpUrl}/health/ready`)).body.trim();
      if (last === want) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gateway not ${want} within ${timeoutMs} ms (last answer: ${last})`);
}
