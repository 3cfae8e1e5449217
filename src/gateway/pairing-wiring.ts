// ABOUTME: Builds the QR pairing service (issue 14) for the composition root: the public base URL and the bound
// ABOUTME: gRPC port are read lazily, because the deep link needs the listeners' real ports.
import { createPairingService, type PairingService } from "../auth/pairing-service.js";
import type { Lockout } from "../auth/lockout.js";
import type { GatewayConfig } from "../config/types.js";
import { publicBaseUrl } from "../config/derived.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import type { StoreExecutor } from "../store/transaction.js";

/**
 * The pairing service of a gateway. `ports()` gives the bound HTTP and gRPC ports (0 before `start` listens);
 * `lockout` is the shared brute-force table when auth is on.
 */
export function createPairing(options: {
  config: GatewayConfig;
  env: NodeJS.ProcessEnv;
  db: StoreExecutor;
  ports: () => { http: number; grpc: number };
  lockout: Lockout | undefined;
  clock: Clock;
  ids: IdSource;
  log: Logger;
}): PairingService {
  const { config, env, ports } = options;
  return createPairingService({
    db: options.db,
    publicBaseUrl: () => publicBaseUrl(config, ports().http, env),
    grpcPort: () => ports().grpc,
    lockout: options.lockout,
    clock: options.clock,
    ids: options.ids,
    log: options.log,
  });
}
