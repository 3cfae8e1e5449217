// ABOUTME: The typed, frozen gateway configuration handed down to every module.
// ABOUTME: camelCase mirror of gateway.yaml (config spec §3) plus our explicit `limits:` section.

/** Every limit the gateway enforces, explicit and configurable (YAML section `limits:`). Durations in ms. */
export interface GatewayLimits {
  /** HTTP JSON body limit. */
  readonly maxBodyBytes: number;
  readonly grpcMaxMessageBytes: number;
  /** Agent per-request event queue: pause reading above `high`, resume below `low`. */
  readonly requestQueueHigh: number;
  readonly requestQueueLow: number;
  /** Per event-hub subscriber queue length. */
  readonly subscriberQueue: number;
  readonly sseWriteStallTimeoutMs: number;
  readonly sseHeartbeatIntervalMs: number;
  readonly cancelGraceMs: number;
  readonly shutdownTimeoutMs: number;
  readonly toolApprovalTimeoutMs: number;
  readonly injectionTimeoutMs: number;
  readonly packToolTimeoutMs: number;
  /** WebSocket edge (ws.md §10): largest inbound frame, socket buffer level runs wait above, caps and timers. */
  readonly wsMaxPayloadBytes: number;
  readonly wsMaxBufferedBytes: number;
  readonly wsHelloTimeoutMs: number;
  readonly wsTickIntervalMs: number;
  readonly wsPongTimeoutMs: number;
  readonly wsMaxSubscriptions: number;
  readonly wsMaxConnections: number;
  /** 0 = no cap. */
  readonly wsMaxConnectionsPerPrincipal: number;
  /** Last-known records of disconnected agents kept for the web admin (oldest dropped first); 0 = none. */
  readonly maxDepartedAgents: number;
}

/** One token-bucket family (ops.md §2): `rate` tokens/s (0 disables it), capacity `burst`. */
export interface RateLimitSpec {
  readonly rate: number;
  readonly burst: number;
}

export interface RateLimitsConfig {
  /** false disables every bucket. */
  readonly enabled: boolean;
  readonly httpPerPrincipal: RateLimitSpec;
  readonly httpPerAddress: RateLimitSpec;
  readonly grpcSend: RateLimitSpec;
  readonly mcpCalls: RateLimitSpec;
  readonly wsRequests: RateLimitSpec;
}

export type GuardAction = "deny" | "require_approval" | "warn";

/** A configured command guard rule (ops.md §3.1), defaults applied; `match` and `flags` compile as a RegExp. */
export interface GuardRuleConfig {
  readonly name: string;
  readonly tools: readonly string[];
  readonly match: string;
  readonly flags: string;
  readonly action: GuardAction;
  readonly message: string;
}

export interface GuardConfig {
  readonly enabled: boolean;
  readonly defaultRules: boolean;
  readonly rules: readonly GuardRuleConfig[];
  readonly maxInputChars: number;
}

/** A rate card (ops.md §4.1): prices per million tokens, optional ones already defaulted. */
export interface CostRateConfig {
  readonly agents: readonly string[];
  readonly backends: readonly string[];
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
  readonly thinking: number;
}

export interface CostsConfig {
  readonly currency: string;
  readonly rates: readonly CostRateConfig[];
}

export type BudgetScope = "principal" | "agent";
export type BudgetPeriod = "day" | "month";

/** A budget (ops.md §4.4); `limit` in currency units, `warnAt` a fraction of it. */
export interface BudgetConfig {
  readonly scope: BudgetScope;
  readonly id: string;
  readonly period: BudgetPeriod;
  readonly limit: number;
  readonly warnAt: number;
}

export type AgentAutoRegistration = "disabled" | "pending" | "approved";
export type ConfigLogLevel = "debug" | "info" | "warn" | "error";
export type ConfigLogFormat = "text" | "json";

/** The whole configuration after defaults, `${VAR}` expansion, env overrides and validation. Deep-frozen. */
export interface GatewayConfig {
  readonly server: { readonly grpcAddr: string; readonly httpAddr: string; readonly trustProxy: boolean };
  readonly database: { readonly path: string };
  readonly auth: {
    /** "" means auth off. */
    readonly jwtSecret: string;
    readonly agentAutoRegistration: AgentAutoRegistration;
    readonly lockout: {
      /** 0 disables the lockout. */
      readonly maxFailures: number;
      readonly windowMs: number;
      readonly durationMs: number;
      readonly exemptLoopback: boolean;
    };
  };
  readonly agents: {
    readonly heartbeatIntervalMs: number;
    readonly heartbeatTimeoutMs: number;
    readonly reconnectGracePeriodMs: number;
  };
  readonly logging: { readonly level: ConfigLogLevel; readonly format: ConfigLogFormat };
  /** `baseUrl` has no trailing `/`; "" means derive it (see derived.ts). */
  readonly webadmin: { readonly baseUrl: string };
  /** `token` "" means loopback-only scraping (ops.md §1.1). */
  readonly metrics: { readonly enabled: boolean; readonly path: string; readonly token: string };
  readonly rateLimits: RateLimitsConfig;
  readonly guard: GuardConfig;
  readonly costs: CostsConfig;
  readonly budgets: readonly BudgetConfig[];
  readonly frontends: {
    readonly slack: {
      readonly enabled: boolean;
      readonly appToken: string;
      readonly botToken: string;
      readonly allowedChannels: readonly string[];
    };
    readonly matrix: {
      readonly enabled: boolean;
      readonly homeserver: string;
      readonly userId: string;
      readonly accessToken: string;
      readonly allowedUsers: readonly string[];
      readonly allowedRooms: readonly string[];
    };
  };
  readonly tailscale: {
    readonly enabled: boolean;
    readonly hostname: string;
    readonly authKey: string;
    readonly stateDir: string;
    readonly ephemeral: boolean;
    readonly https: boolean;
    readonly funnel: boolean;
  };
  readonly limits: GatewayLimits;
}

/** What `loadConfig` returns. */
export interface LoadedConfig {
  readonly config: GatewayConfig;
  /** The resolved config file path (whether or not it existed). */
  readonly path: string;
  /** False when no file existed at the default path and the embedded defaults were used. */
  readonly fromFile: boolean;
  /** Every warning the load produced, in order (each was also logged at warn). */
  readonly warnings: readonly string[];
}
