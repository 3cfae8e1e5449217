// ABOUTME: The five rate-limit scopes of ops.md §2 over the one token-bucket family type, with counting and logging.
// ABOUTME: `check` throws the `rate limit exceeded` Refusal with its retry hint; warn logs at most once per key a minute.
import type { RateLimitsConfig, RateLimitSpec } from "../config/types.js";
import type { Logger } from "../lib/logger.js";
import { rateLimited } from "../lib/refusal.js";
import { createWarnLimiter } from "../lib/warn-limiter.js";
import type { GatewayMetrics, RateLimitScope } from "./gateway-metrics.js";
import { TokenBucketFamily } from "./token-bucket.js";


export interface RateLimits {
  /**
   * Takes one token of `scope` for `key`. Returns 0 when granted, else the retry hint in ms (after counting and
   * logging the refusal).
   */
  take(scope: RateLimitScope, key: string): number;
  /** As `take`, but throws the Refusal RESOURCE_EXHAUSTED `rate limit exceeded` (with `retryAfterMs`) when refused. */
  check(scope: RateLimitScope, key: string): void;
  /** False when the scope's bucket is disabled (`rate: 0` or `rate_limits.enabled: false`). */
  isEnabled(scope: RateLimitScope): boolean;
}

/** Builds the gateway's limiters; `now` is a millisecond clock (tests drive it). */
export function createRateLimits(deps: {
  config: RateLimitsConfig;
  metrics: GatewayMetrics;
  log: Logger;
  now: () => number;
}): RateLimits {
  const { config, metrics, log, now } = deps;
  const off: RateLimitSpec = { rate: 0, burst: 1 };
  const spec = (s: RateLimitSpec) => (config.enabled ? s : off);
  const families: Record<RateLimitScope, TokenBucketFamily> = {
    http_principal: new TokenBucketFamily(spec(config.httpPerPrincipal), { now }),
    http_address: new TokenBucketFamily(spec(config.httpPerAddress), { now }),
    grpc_send: new TokenBucketFamily(spec(config.grpcSend), { now }),
    mcp: new TokenBucketFamily(spec(config.mcpCalls), { now }),
    ws: new TokenBucketFamily(spec(config.wsRequests), { now }),
  };
  const warns = createWarnLimiter(now);

  const refused = (scope: RateLimitScope, key: string, retryAfterMs: number) => {
    metrics.rateLimited(scope);
    warns.warn(log, `rate_limited\u0000${scope}\u0000${key}`, "rate limit exceeded", { scope, key, retry_after_ms: retryAfterMs });
  };

  const take = (scope: RateLimitScope, key: string): number => {
    const wait = families[scope].take(key);
    if (wait > 0) refused(scope, key, wait);
    return wait;
  };

  return {
    take,
    check(scope, key) {
      const wait = take(scope, key);
      if (wait > 0) throw rateLimited(wait);
    },
    isEnabled: (scope) => families[scope].isEnabled,
  };
}
