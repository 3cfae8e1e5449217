// ABOUTME: The gateway's real domain (createDomain) over a migrated temp SQLite file, for harnesses of one edge.
// ABOUTME: Each harness adds only the edge it tests; `stop` runs the domain's shutdown order, closes and removes the store.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GatewayConfig } from "../../src/config/types.js";
import { createDomain, type DomainShutdownHooks, type GatewayDomain } from "../../src/gateway/create-domain.js";
import { systemClock, type Clock } from "../../src/lib/clock.js";
import { randomIds, type IdSource } from "../../src/lib/ids.js";
import { silentLogger, type Logger } from "../../src/lib/logger.js";
import { openDatabase, type StoreDatabase } from "../../src/store/database.js";
import { testConfig, type TestGatewayOptions } from "./gateway-harness.js";

export interface TestDomainOptions extends Pick<TestGatewayOptions, "limits" | "heartbeatTimeoutMs" | "mutate"> {
  /** Reuse a directory (and its gateway.db); it is then not removed on stop. */
  dir?: string;
  clock?: Clock;
  ids?: IdSource;
  log?: Logger;
  /** Environment for the MCP endpoint in Welcome; empty by default. */
  env?: NodeJS.ProcessEnv;
  serverId?: string;
}

export interface TestDomain {
  domain: GatewayDomain;
  store: StoreDatabase;
  config: GatewayConfig;
  dir: string;
  /** The domain's shutdown order (with the edge's hooks), then the store; throws what the steps collected. */
  stop(hooks?: DomainShutdownHooks): Promise<void>;
}

/** Opens a fresh (or the given) directory's database, creates the domain and runs its startup steps. */
export async function startTestDomain(options: TestDomainOptions = {}): Promise<TestDomain> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "coven-domain-"));
  const config = testConfig(dir, options);
  const log = options.log ?? silentLogger;
  const store = await openDatabase({ path: config.database.path, log });
  const domain = createDomain({
    config,
    db: store.db,
    writes: store.writes,
    clock: options.clock ?? systemClock,
    ids: options.ids ?? randomIds,
    log,
    env: options.env ?? {},
    serverId: options.serverId,
  });
  const closeStore = async () => {
    await store.close();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await domain.start();
  } catch (err) {
    await domain.stop();
    await closeStore();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    domain,
    store,
    config,
    dir,
    stop(hooks) {
      stopping ??= (async () => {
        let errors: unknown[];
        try {
          errors = await domain.stop(hooks);
        } finally {
          await closeStore();
        }
        if (errors.length > 0) throw new AggregateError(errors, "domain shutdown collected errors");
      })();
      return stopping;
    },
  };
}
