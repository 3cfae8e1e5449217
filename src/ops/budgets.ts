// ABOUTME: Enforced budgets (ops.md §4.4-§4.6): in-memory spend per budget key and UTC period, seeded from the store.
// ABOUTME: `check` refuses a send at or over its limit (audited); a priced row crossing warn_at writes one warning.
import type { BudgetConfig, BudgetPeriod, BudgetScope } from "../config/types.js";
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { createWarnLimiter } from "../lib/warn-limiter.js";
import type { Logger } from "../lib/logger.js";
import { Refusal } from "../lib/refusal.js";
import { createAuditRepository, SYSTEM_ACTOR } from "../store/audit-repository.js";
import type { StoreExecutor } from "../store/transaction.js";
import type { UsageRepository } from "../store/usage-repository.js";
import type { GatewayMetrics } from "./gateway-metrics.js";
import { globToRegExp, isGlob } from "./glob.js";

export interface BudgetEntry {
  scope: BudgetScope;
  id: string;
  period: BudgetPeriod;
  limit: number;
  spent: number;
  currency: string;
  period_start: string;
  state: "ok" | "warning" | "exceeded";
}

export interface Budgets {
  /** Seeds the current periods' spend from `message_usage` (startup). */
  seed(): Promise<void>;
  /**
   * Checks every budget, in configuration order, for the caller's principal and the target agent. Throws the budget
   * Refusal (RESOURCE_EXHAUSTED `budget exceeded: …`) after writing the `budget_refused` audit row.
   */
  check(input: { principalId: string | null; agentId: string; actor: string }): Promise<void>;
  /** Adds a priced usage row's cost to the keys it counts for; writes warnings for crossed thresholds. */
  record(input: { agentId: string; principalId: string | null; costMicros: number }): void;
  /** `GET /api/budgets` entries (ops.md §4.6). */
  list(): BudgetEntry[];
  /** Waits for pending warning writes (tests, shutdown). */
  flush(): Promise<void>;
}

interface CompiledBudget {
  index: number;
  config: BudgetConfig;
  matches: (key: string) => boolean;
  limitMicros: number;
  warnMicros: number;
}

/** Start of the UTC day or month that contains `date`. */
export function periodStart(period: BudgetPeriod, date: Date): Date {
  return period === "day"
    ? new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
    : new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
}

const amount = (micros: number) => (micros / 1_000_000).toFixed(2);

/** Builds the budgets over the store; `seed` reads the current periods' spend from `message_usage`. */
export function createBudgets(deps: {
  budgets: readonly BudgetConfig[];
  currency: string;
  db: StoreExecutor;
  usage: UsageRepository;
  clock: Clock;
  log: Logger;
  metrics: GatewayMetrics;
}): Budgets {
  const { clock, log, metrics, currency } = deps;
  const warns = createWarnLimiter(() => clock.now().getTime());
  const compiled: CompiledBudget[] = deps.budgets.map((config, index) => {
    const re = isGlob(config.id) ? globToRegExp(config.id) : undefined;
    const limitMicros = Math.round(config.limit * 1_000_000);
    return {
      index,
      config,
      matches: re ? (key) => re.test(key) : (key) => key === config.id,
      limitMicros,
      warnMicros: config.warnAt * limitMicros,
    };
  });
  /** spend[period][scope]: key -> micros for the current period `starts[period]`. */
  const spend: Record<BudgetPeriod, Record<BudgetScope, Map<string, number>>> = {
    day: { principal: new Map(), agent: new Map() },
    month: { principal: new Map(), agent: new Map() },
  };
  const starts: Record<BudgetPeriod, number> = { day: Number.NaN, month: Number.NaN };
  /** `<budget index>\0<key>` announced in the current period of that budget. */
  const announced: Record<BudgetPeriod, Set<string>> = { day: new Set(), month: new Set() };
  const writes = new Set<Promise<void>>();
  const used = new Set(compiled.map((b) => `${b.config.period}:${b.config.scope}`));

  const seed = async (period: BudgetPeriod, start: Date) => {
    const since = isoTimestamp(start);
    for (const scope of ["principal", "agent"] as const) {
      const map = spend[period][scope];
      map.clear();
      if (!used.has(`${period}:${scope}`)) continue;
      const rows = scope === "agent" ? await deps.usage.spendByAgent(since) : await deps.usage.spendByPrincipal(since);
      for (const row of rows) map.set(row.key, row.costMicros);
    }
    announced[period].clear();
    for (const budget of compiled) {
      if (budget.config.period !== period) continue;
      for (const [key, micros] of spend[period][budget.config.scope]) {
        if (budget.matches(key) && micros >= budget.warnMicros) announced[period].add(`${budget.index}\u0000${key}`);
      }
    }
    starts[period] = start.getTime();
  };

  /** Resets a period whose end has passed (spend of the new period starts at 0). */
  const roll = (now: Date) => {
    for (const period of ["day", "month"] as const) {
      const start = periodStart(period, now).getTime();
      if (start === starts[period]) continue;
      starts[period] = start;
      spend[period].principal.clear();
      spend[period].agent.clear();
      announced[period].clear();
    }
  };

  const target = (budget: CompiledBudget, key: string) => `${budget.config.scope}:${key}`;
  const detail = (budget: CompiledBudget, key: string, spent: number, agentId: string) => ({
    scope: budget.config.scope,
    key,
    period: budget.config.period,
    spent_micros: spent,
    limit_micros: budget.limitMicros,
    agent_id: agentId,
  });
  const track = (write: Promise<void>) => {
    writes.add(write);
    void write.finally(() => writes.delete(write));
  };

  return {
    async seed() {
      const now = clock.now();
      await seed("day", periodStart("day", now));
      await seed("month", periodStart("month", now));
    },

    async check({ principalId, agentId, actor }) {
      if (compiled.length === 0) return;
      roll(clock.now());
      for (const budget of compiled) {
        const key = budget.config.scope === "principal" ? principalId : agentId;
        if (key === null || !budget.matches(key)) continue;
        const spent = spend[budget.config.period][budget.config.scope].get(key) ?? 0;
        if (spent < budget.limitMicros) continue;
        const text =
          `budget exceeded: ${budget.config.scope} ${key} spent ${amount(spent)} of ${amount(budget.limitMicros)} ` +
          `${currency} this ${budget.config.period}`;
        await createAuditRepository(deps.db).record({
          actor,
          action: "budget_refused",
          targetType: "budget",
          targetId: target(budget, key),
          detail: detail(budget, key, spent, agentId),
          now: isoTimestamp(clock.now()),
        });
        metrics.budgetRefusal(budget.config.scope);
        warns.warn(log, `budget\u0000${target(budget, key)}`, "budget exceeded", { scope: budget.config.scope, key, period: budget.config.period, agent_id: agentId });
        throw new Refusal("budget", text);
      }
    },

    record({ agentId, principalId, costMicros }) {
      if (compiled.length === 0 || !(costMicros > 0)) return;
      roll(clock.now());
      for (const period of ["day", "month"] as const) {
        const add = (scope: BudgetScope, key: string) => {
          const map = spend[period][scope];
          map.set(key, (map.get(key) ?? 0) + costMicros);
        };
        if (used.has(`${period}:agent`)) add("agent", agentId);
        if (principalId !== null && used.has(`${period}:principal`)) add("principal", principalId);
      }
      for (const budget of compiled) {
        const key = budget.config.scope === "principal" ? principalId : agentId;
        if (key === null || !budget.matches(key)) continue;
        const period = budget.config.period;
        const spent = spend[period][budget.config.scope].get(key) ?? 0;
        const id = `${budget.index}\u0000${key}`;
        if (spent < budget.warnMicros || announced[period].has(id)) continue;
        announced[period].add(id);
        log.warn("budget warning", { scope: budget.config.scope, key, period, spent_micros: spent, limit_micros: budget.limitMicros });
        track(
          createAuditRepository(deps.db)
            .record({
              actor: SYSTEM_ACTOR,
              action: "budget_warning",
              targetType: "budget",
              targetId: target(budget, key),
              detail: detail(budget, key, spent, agentId),
              now: isoTimestamp(clock.now()),
            })
            .then(
              () => undefined,
              (cause: unknown) => log.error("writing budget warning failed", { cause }),
            ),
        );
      }
    },

    list() {
      const now = clock.now();
      roll(now);
      const out: BudgetEntry[] = [];
      for (const budget of compiled) {
        const { scope, period } = budget.config;
        const map = spend[period][scope];
        const keys = isGlob(budget.config.id)
          ? [...map.entries()].filter(([key, micros]) => micros > 0 && budget.matches(key)).map(([key]) => key).sort()
          : [budget.config.id];
        for (const key of keys) {
          const spent = map.get(key) ?? 0;
          out.push({
            scope,
            id: key,
            period,
            limit: budget.config.limit,
            spent: spent / 1_000_000,
            currency,
            period_start: isoTimestamp(periodStart(period, now)).replace(".000Z", "Z"),
            state: spent >= budget.limitMicros ? "exceeded" : spent >= budget.warnMicros ? "warning" : "ok",
          });
        }
      }
      return out;
    },

    async flush() {
      await Promise.allSettled([...writes]);
    },
  };
}
