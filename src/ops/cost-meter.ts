// ABOUTME: Prices token usage by the rate cards of ops.md §4.1: first card whose agent and backend globs both match.
// ABOUTME: Cost is kept in micros (millionths of costs.currency), rounded half up; no matching card means unpriced.
import type { CostsConfig } from "../config/types.js";
import { globMatcher } from "./glob.js";

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  thinkingTokens: number;
}

export interface CostMeter {
  readonly currency: string;
  /** The cost of one usage row in micros, or null when no rate card matches. */
  price(agentId: string, backend: string, usage: TokenCounts): number | null;
}

/** Builds the meter over the configured cards (validated: prices ≥ 0, optional ones defaulted). */
export function createCostMeter(config: CostsConfig): CostMeter {
  const cards = config.rates.map((rate) => {
    const agents = globMatcher(rate.agents);
    const backends = globMatcher(rate.backends);
    return {
      rate,
      // An empty backend is matched by `*` only (ops.md §4.1).
      matches: (agentId: string, backend: string) =>
        agents(agentId) && (backend === "" ? rate.backends.includes("*") : backends(backend)),
    };
  });
  return {
    currency: config.currency,
    price(agentId, backend, usage) {
      const card = cards.find((c) => c.matches(agentId, backend));
      if (!card) return null;
      const r = card.rate;
      // Prices are per million tokens and cost is in millionths: tokens × price is already micros.
      const micros =
        usage.inputTokens * r.input +
        usage.outputTokens * r.output +
        usage.cacheReadTokens * r.cacheRead +
        usage.cacheWriteTokens * r.cacheWrite +
        usage.thinkingTokens * r.thinking;
      return Math.floor(micros + 0.5 + 1e-9);
    },
  };
}

/** Micros as a decimal number of currency units (`cost` fields of the API). */
export function microsToAmount(micros: number): number {
  return micros / 1_000_000;
}
