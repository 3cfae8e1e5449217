// ABOUTME: Builds and validates the ops.md §7 sections: metrics, rate_limits, guard, costs and budgets.
// ABOUTME: List items are read loosely at build time; validation then reports the first failure with the spec's text.
import type {
  BudgetConfig,
  CostRateConfig,
  GatewayConfig,
  GuardRuleConfig,
  RateLimitSpec,
  RateLimitsConfig,
} from "./types.js";

/** Reads one leaf of the layered settings (build-config's reader). */
export interface OpsSettingsReader {
  str(key: string): string;
  bool(key: string): boolean;
  int(key: string): number;
  num(key: string): number;
  raw(key: string): readonly unknown[];
}

export const RATE_LIMIT_NAMES = ["http_per_principal", "http_per_address", "grpc_send", "mcp_calls", "ws_requests"] as const;
export const GUARD_RULE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const GUARD_ACTIONS = ["deny", "require_approval", "warn"];
/** Prefixes a metrics path must not fall under (ops.md §1.1). */
const RESERVED_PREFIXES = ["/api/", "/mcp", "/ws", "/admin", "/chat/", "/static/", "/health", "/login", "/setup", "/invite/", "/webauthn/"];

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const text = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
const price = (v: unknown): number => (v === undefined || v === null ? Number.NaN : typeof v === "number" ? v : Number(v));
const strings = (v: unknown, fallback: readonly string[]): string[] =>
  Array.isArray(v) ? v.map((item) => text(item)) : v === undefined || v === null ? [...fallback] : [text(v)];

function bucket(s: OpsSettingsReader, name: string): RateLimitSpec {
  return { rate: s.num(`rate_limits.${name}.rate`), burst: s.num(`rate_limits.${name}.burst`) };
}

/** The typed ops sections (not validated yet). */
export function buildOpsConfig(s: OpsSettingsReader): Pick<GatewayConfig, "metrics" | "rateLimits" | "guard" | "costs" | "budgets"> {
  const rateLimits: RateLimitsConfig = {
    enabled: s.bool("rate_limits.enabled"),
    httpPerPrincipal: bucket(s, "http_per_principal"),
    httpPerAddress: bucket(s, "http_per_address"),
    grpcSend: bucket(s, "grpc_send"),
    mcpCalls: bucket(s, "mcp_calls"),
    wsRequests: bucket(s, "ws_requests"),
  };
  const rules: GuardRuleConfig[] = s.raw("guard.rules").map((item) => {
    const r = isRecord(item) ? item : {};
    const name = text(r["name"]);
    return {
      name,
      tools: strings(r["tools"], ["*"]),
      match: text(r["match"]),
      flags: text(r["flags"]),
      action: text(r["action"]) as GuardRuleConfig["action"],
      message: r["message"] === undefined || r["message"] === null ? `blocked by rule ${name}` : text(r["message"]),
    };
  });
  const rates: CostRateConfig[] = s.raw("costs.rates").map((item) => {
    const r = isRecord(item) ? item : {};
    const input = price(r["input"]);
    const output = price(r["output"]);
    return {
      agents: strings(r["agents"], ["*"]),
      backends: strings(r["backends"], ["*"]),
      input,
      output,
      cacheRead: r["cache_read"] === undefined || r["cache_read"] === null ? input : price(r["cache_read"]),
      cacheWrite: r["cache_write"] === undefined || r["cache_write"] === null ? input : price(r["cache_write"]),
      thinking: r["thinking"] === undefined || r["thinking"] === null ? output : price(r["thinking"]),
    };
  });
  const budgets: BudgetConfig[] = s.raw("budgets").map((item) => {
    const b = isRecord(item) ? item : {};
    return {
      scope: text(b["scope"]) as BudgetConfig["scope"],
      id: text(b["id"]),
      period: text(b["period"]) as BudgetConfig["period"],
      limit: price(b["limit"]),
      warnAt: b["warn_at"] === undefined || b["warn_at"] === null ? 0.8 : price(b["warn_at"]),
    };
  });
  return {
    metrics: { enabled: s.bool("metrics.enabled"), path: s.str("metrics.path"), token: s.str("metrics.token") },
    rateLimits,
    guard: {
      enabled: s.bool("guard.enabled"),
      defaultRules: s.bool("guard.default_rules"),
      rules,
      maxInputChars: s.int("guard.max_input_chars"),
    },
    costs: { currency: s.str("costs.currency"), rates },
    budgets,
  };
}

function checkMetrics(config: GatewayConfig): string | undefined {
  const { path, token } = config.metrics;
  const collides = RESERVED_PREFIXES.some((prefix) => path === prefix.replace(/\/$/, "") || path.startsWith(prefix));
  if (!path.startsWith("/") || collides) return "metrics.path must start with / and not collide with gateway routes";
  if (token !== "" && token.length < 16) return "metrics.token must be at least 16 characters";
  return undefined;
}

function checkRateLimits(config: GatewayConfig): string | undefined {
  const specs: Record<(typeof RATE_LIMIT_NAMES)[number], RateLimitSpec> = {
    http_per_principal: config.rateLimits.httpPerPrincipal,
    http_per_address: config.rateLimits.httpPerAddress,
    grpc_send: config.rateLimits.grpcSend,
    mcp_calls: config.rateLimits.mcpCalls,
    ws_requests: config.rateLimits.wsRequests,
  };
  for (const name of RATE_LIMIT_NAMES) {
    const { rate, burst } = specs[name];
    if (!(rate >= 0)) return `rate_limits.${name}.rate must not be negative`;
    if (!Number.isInteger(burst) || burst < 1) return `rate_limits.${name}.burst must be a positive integer`;
  }
  return undefined;
}

/** The detail of a RegExp SyntaxError without its generic prefix; undefined when the expression compiles. */
export function regexProblem(source: string, flags: string): string | undefined {
  try {
    new RegExp(source, flags);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return message.replace(/^Invalid regular expression: /, "");
  }
}

function checkGuard(config: GatewayConfig): string | undefined {
  const seen = new Set<string>();
  for (const [i, rule] of config.guard.rules.entries()) {
    const at = `guard.rules[${i}]`;
    if (rule.name === "") return `${at}.name is required`;
    if (!GUARD_RULE_NAME.test(rule.name)) return `${at}.name must match ^[a-z0-9][a-z0-9_.-]{0,63}$`;
    if (seen.has(rule.name)) return `${at}: duplicate rule name ${JSON.stringify(rule.name)}`;
    seen.add(rule.name);
    if (rule.match === "") return `${at}.match is required`;
    if (!/^[imsu]*$/.test(rule.flags)) return `${at}.flags may only contain i, m, s, u`;
    const problem = regexProblem(rule.match, rule.flags);
    if (problem !== undefined) return `${at}.match: invalid regular expression: ${problem}`;
    if (!GUARD_ACTIONS.includes(rule.action)) return `${at}.action must be one of deny, require_approval, warn`;
  }
  const max = config.guard.maxInputChars;
  if (!(max >= 1024 && max <= 1_048_576)) return "guard.max_input_chars must be between 1024 and 1048576";
  return undefined;
}

function checkCosts(config: GatewayConfig): string | undefined {
  if (!/^[A-Z]{3}$/.test(config.costs.currency)) return "costs.currency must be three upper-case letters";
  for (const [i, rate] of config.costs.rates.entries()) {
    if (Number.isNaN(rate.input) || Number.isNaN(rate.output)) return `costs.rates[${i}]: input and output prices are required`;
    const fields: Array<[string, number]> = [
      ["input", rate.input],
      ["output", rate.output],
      ["cache_read", rate.cacheRead],
      ["cache_write", rate.cacheWrite],
      ["thinking", rate.thinking],
    ];
    for (const [field, value] of fields) {
      if (!(value >= 0) || !Number.isFinite(value)) return `costs.rates[${i}].${field} must not be negative`;
    }
  }
  return undefined;
}

function checkBudgets(config: GatewayConfig): string | undefined {
  for (const [i, budget] of config.budgets.entries()) {
    const at = `budgets[${i}]`;
    if (budget.scope !== "principal" && budget.scope !== "agent") return `${at}.scope must be principal or agent`;
    if (budget.id === "") return `${at}.id is required`;
    if (budget.period !== "day" && budget.period !== "month") return `${at}.period must be day or month`;
    if (!(budget.limit > 0) || !Number.isFinite(budget.limit)) return `${at}.limit must be greater than 0`;
    if (!(budget.warnAt > 0 && budget.warnAt <= 1)) return `${at}.warn_at must be greater than 0 and at most 1`;
  }
  return undefined;
}

/** The first failure of the ops sections, in the order of ops.md §7 (metrics, rate limits, guard, costs, budgets). */
export function validateOpsConfig(config: GatewayConfig): string | undefined {
  return checkMetrics(config) ?? checkRateLimits(config) ?? checkGuard(config) ?? checkCosts(config) ?? checkBudgets(config);
}
