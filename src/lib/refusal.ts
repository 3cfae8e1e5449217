// ABOUTME: The refusals of ops.md §2, §4, §5 (rate limit, budget, maintenance) as GatewayErrors with their retry hint.
// ABOUTME: Each edge maps `kind` to its answer: HTTP 429/402/503 with Retry-After, gRPC trailers, WS retry_after_ms.
import { GatewayError } from "./gateway-error.js";

export type RefusalKind = "rate_limited" | "budget" | "maintenance";

/** The retry hint of a maintenance refusal (ops.md §4.5: `Retry-After: 60`, `retry-after-ms: 60000`). */
export const MAINTENANCE_RETRY_AFTER_MS = 60_000;

/**
 * A send or request refused by an operational limit. `code` is RESOURCE_EXHAUSTED (rate limit, budget) or
 * UNAVAILABLE (maintenance); `retryAfterMs` is set when waiting helps.
 */
export class Refusal extends GatewayError {
  readonly kind: RefusalKind;
  readonly retryAfterMs: number | undefined;

  constructor(kind: RefusalKind, message: string, retryAfterMs?: number) {
    super(kind === "maintenance" ? "UNAVAILABLE" : "RESOURCE_EXHAUSTED", message);
    this.name = "Refusal";
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The rate-limit refusal (`rate limit exceeded`). */
export function rateLimited(retryAfterMs: number): Refusal {
  return new Refusal("rate_limited", "rate limit exceeded", retryAfterMs);
}

/** `Retry-After` seconds for a retry hint: rounded up, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** True when `err` is a Refusal. */
export function isRefusal(err: unknown): err is Refusal {
  return err instanceof Refusal;
}
