// ABOUTME: Starts a real gateway (temp SQLite file, loopback gRPC and HTTP on port 0) for end-to-end tests.
// ABOUTME: Returns the bound addresses and a stop that also removes the temp directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/load-config.js";
import type { GatewayConfig, GatewayLimits } from "../../src/config/types.js";
import { createGateway, type Gateway, type GatewayAddresses, type GatewayOverrides } from "../../src/gateway/create-gateway.js";
import { silentLogger } from "../../src/lib/logger.js";

export interface TestGateway extends GatewayAddresses {
  gateway: Gateway;
  config: GatewayConfig;
  dir: string;
  dbPath: string;
  stop(): Promise<void>;
}

export interface TestGatewayOptions extends GatewayOverrides {
  /** Reuse an existing directory (and so its database) instead of a new temp one; not removed on stop. */
  dir?: string;
  limits?: Partial<GatewayLimits>;
  heartbeatTimeoutMs?: number;
  mutate?: (config: GatewayConfig) => GatewayConfig;
}

/** Builds a config for tests: loopback port 0 for both listeners, the database in `dir`. */
export function testConfig(dir: string, options: TestGatewayOptions = {}): GatewayConfig {
  const base = defaultConfig({ HOME: dir, XDG_DATA_HOME: join(dir, "data") }, dir);
  const config: GatewayConfig = {
    ...base,
    server: { ...base.server, grpcAddr: "127.0.0.1:0", httpAddr: "127.0.0.1:0" },
    database: { path: join(dir, "gateway.db") },
    agents: { ...base.agents, heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? base.agents.heartbeatTimeoutMs },
    limits: { ...base.limits, shutdownTimeoutMs: 1_000, ...options.limits },
  };
  return options.mutate ? options.mutate(config) : config;
}

/** Starts a gateway on loopback with a temp database. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "coven-gw-"));
  const config = testConfig(dir, options);
  const gateway = createGateway(config, { log: silentLogger, env: {}, ...options });
  let addresses: GatewayAddresses;
  try {
    addresses = await gateway.start();
  } catch (err) {
    await gateway.stop();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    ...addresses,
    gateway,
    config,
    dir,
    dbPath: config.database.path,
    async stop() {
      if (stopped) return;
      stopped = true;
      await gateway.stop();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
