// ABOUTME: Turns layered settings into the typed GatewayConfig: parses durations, normalises enums.
// ABOUTME: Collects the non-fatal warnings of spec §6 (unknown level/registration mode, ignored features).

import { ConfigError } from "./config-error.js";
import { parseDuration } from "./duration.js";
import { buildOpsConfig } from "./ops-config.js";
import type { LeafValue, Settings } from "./schema.js";
import type { AgentAutoRegistration, ConfigLogLevel, GatewayConfig } from "./types.js";

const LOG_LEVELS: readonly ConfigLogLevel[] = ["debug", "info", "warn", "error"];

class SettingsReader {
  readonly #settings: Settings;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  #get(key: string): LeafValue {
    const value = this.#settings[key];
    if (value === undefined) throw new Error(`config setting ${key} has no value`);
    return value;
  }

  str(key: string): string {
    return String(this.#get(key));
  }

  bool(key: string): boolean {
    return this.#get(key) === true;
  }

  int(key: string): number {
    return Number(this.#get(key));
  }

  num(key: string): number {
    return Number(this.#get(key));
  }

  /** A `list` leaf's parsed items. */
  raw(key: string): readonly unknown[] {
    const value = this.#get(key);
    return Array.isArray(value) ? (value as readonly unknown[]) : [];
  }

  list(key: string): string[] {
    const value = this.#get(key);
    return Array.isArray(value) ? [...(value as readonly string[])] : [];
  }

  /** Throws ConfigError `parsing durations: parsing <key> "<value>": <detail>`. */
  ms(key: string): number {
    const text = this.str(key);
    try {
      return parseDuration(text);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new ConfigError("parsing durations", `parsing ${key} ${JSON.stringify(text)}: ${detail}`, { cause: err });
    }
  }
}

function autoRegistration(value: string, warn: (m: string) => void): AgentAutoRegistration {
  if (value === "" || value === "disabled") return "disabled";
  if (value === "approved" || value === "pending") return value;
  warn(`unknown auth.agent_auto_registration ${JSON.stringify(value)}, treating it as pending`);
  return "pending";
}

function logLevel(value: string, warn: (m: string) => void): ConfigLogLevel {
  const level = LOG_LEVELS.find((l) => l === value);
  if (level) return level;
  warn(`unknown logging.level ${JSON.stringify(value)}, using info`);
  return "info";
}

/**
 * Builds the (not yet validated, not yet frozen) config from layered settings.
 * Durations are parsed first, in schema order, so a bad one fails before any warning is emitted.
 * Throws ConfigError stage `parsing durations`.
 */
export function buildConfig(settings: Settings, warn: (message: string) => void): GatewayConfig {
  const s = new SettingsReader(settings);
  const durations = {
    lockoutWindow: s.ms("auth.lockout.window"),
    lockoutDuration: s.ms("auth.lockout.duration"),
    heartbeatInterval: s.ms("agents.heartbeat_interval"),
    heartbeatTimeout: s.ms("agents.heartbeat_timeout"),
    reconnectGrace: s.ms("agents.reconnect_grace_period"),
    sseWriteStall: s.ms("limits.sse_write_stall_timeout"),
    sseHeartbeat: s.ms("limits.sse_heartbeat_interval"),
    cancelGrace: s.ms("limits.cancel_grace"),
    shutdown: s.ms("limits.shutdown_timeout"),
    toolApproval: s.ms("limits.tool_approval_timeout"),
    injection: s.ms("limits.injection_timeout"),
    packTool: s.ms("limits.pack_tool_timeout"),
    wsHello: s.ms("limits.ws_hello_timeout"),
    wsTick: s.ms("limits.ws_tick_interval"),
    wsPong: s.ms("limits.ws_pong_timeout"),
  };
  return {
    server: {
      grpcAddr: s.str("server.grpc_addr"),
      httpAddr: s.str("server.http_addr"),
      trustProxy: s.bool("server.trust_proxy"),
    },
    database: { path: s.str("database.path") },
    auth: {
      jwtSecret: s.str("auth.jwt_secret"),
      agentAutoRegistration: autoRegistration(s.str("auth.agent_auto_registration"), warn),
      lockout: {
        maxFailures: s.int("auth.lockout.max_failures"),
        windowMs: durations.lockoutWindow,
        durationMs: durations.lockoutDuration,
        exemptLoopback: s.bool("auth.lockout.exempt_loopback"),
      },
    },
    agents: {
      heartbeatIntervalMs: durations.heartbeatInterval,
      heartbeatTimeoutMs: durations.heartbeatTimeout,
      reconnectGracePeriodMs: durations.reconnectGrace,
    },
    logging: {
      level: logLevel(s.str("logging.level"), warn),
      format: s.str("logging.format") === "json" ? "json" : "text",
    },
    webadmin: { baseUrl: s.str("webadmin.base_url").replace(/\/+$/, "") },
    ...buildOpsConfig(s),
    frontends: {
      slack: {
        enabled: s.bool("frontends.slack.enabled"),
        appToken: s.str("frontends.slack.app_token"),
        botToken: s.str("frontends.slack.bot_token"),
        allowedChannels: s.list("frontends.slack.allowed_channels"),
      },
      matrix: {
        enabled: s.bool("frontends.matrix.enabled"),
        homeserver: s.str("frontends.matrix.homeserver"),
        userId: s.str("frontends.matrix.user_id"),
        accessToken: s.str("frontends.matrix.access_token"),
        allowedUsers: s.list("frontends.matrix.allowed_users"),
        allowedRooms: s.list("frontends.matrix.allowed_rooms"),
      },
    },
    tailscale: {
      enabled: s.bool("tailscale.enabled"),
      hostname: s.str("tailscale.hostname"),
      authKey: s.str("tailscale.auth_key"),
      stateDir: s.str("tailscale.state_dir"),
      ephemeral: s.bool("tailscale.ephemeral"),
      https: s.bool("tailscale.https"),
      funnel: s.bool("tailscale.funnel"),
    },
    limits: {
      maxBodyBytes: s.int("limits.max_body_bytes"),
      grpcMaxMessageBytes: s.int("limits.grpc_max_message_bytes"),
      requestQueueHigh: s.int("limits.request_queue_high"),
      requestQueueLow: s.int("limits.request_queue_low"),
      subscriberQueue: s.int("limits.subscriber_queue"),
      sseWriteStallTimeoutMs: durations.sseWriteStall,
      sseHeartbeatIntervalMs: durations.sseHeartbeat,
      cancelGraceMs: durations.cancelGrace,
      shutdownTimeoutMs: durations.shutdown,
      toolApprovalTimeoutMs: durations.toolApproval,
      injectionTimeoutMs: durations.injection,
      packToolTimeoutMs: durations.packTool,
      wsMaxPayloadBytes: s.int("limits.ws_max_payload_bytes"),
      wsMaxBufferedBytes: s.int("limits.ws_max_buffered_bytes"),
      wsHelloTimeoutMs: durations.wsHello,
      wsTickIntervalMs: durations.wsTick,
      wsPongTimeoutMs: durations.wsPong,
      wsMaxSubscriptions: s.int("limits.ws_max_subscriptions"),
      wsMaxConnections: s.int("limits.ws_max_connections"),
      wsMaxConnectionsPerPrincipal: s.int("limits.ws_max_connections_per_principal"),
      maxDepartedAgents: s.int("limits.max_departed_agents"),
    },
  };
}

/** The warnings about accepted-but-ignored features (spec §3.7), in a fixed order. */
export function featureWarnings(config: GatewayConfig): string[] {
  const warnings: string[] = [];
  if (config.frontends.slack.enabled) warnings.push("frontends.slack is not implemented in the gateway; ignored");
  if (config.frontends.matrix.enabled) warnings.push("frontends.matrix is not implemented in the gateway; ignored");
  return warnings;
}
