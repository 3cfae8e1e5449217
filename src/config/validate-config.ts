// ABOUTME: The validation table of config spec §6 (rows 1–11) plus our lockout and limits checks.
// ABOUTME: Returns the first failure's exact message; the loader wraps it as `validating config: ...`.

import { tryParseHostPort } from "./host-port.js";
import { validateOpsConfig } from "./ops-config.js";
import type { GatewayConfig } from "./types.js";

export interface ValidateOptions {
  /**
   * The first unresolved placeholder name when the unexpanded `auth.jwt_secret` contained `${…}`
   * (spec §2 fail-closed rule); undefined when it had none or the raw text did not parse.
   */
  readonly jwtPlaceholder?: string | undefined;
}

function isHttpUrl(text: string): boolean {
  if (/[\s?#]/.test(text)) return false;
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    if (err instanceof TypeError) return false;
    throw err;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

function checkAddress(key: string, value: string): string | undefined {
  if (value === "") return `${key} is required`;
  return undefined;
}

function checkLockout(config: GatewayConfig): string | undefined {
  const { maxFailures, windowMs, durationMs } = config.auth.lockout;
  if (maxFailures < 0) return "auth.lockout.max_failures must not be negative";
  const durations: Array<[string, number]> = [
    ["window", windowMs],
    ["duration", durationMs],
  ];
  for (const [key, ms] of durations) {
    if (ms < 0) return `auth.lockout.${key} must not be negative`;
    if (ms === 0 && maxFailures > 0) return `auth.lockout.${key} must be greater than 0`;
  }
  return undefined;
}

function checkLimits(config: GatewayConfig): string | undefined {
  const l = config.limits;
  const values: Array<[string, number]> = [
    ["max_body_bytes", l.maxBodyBytes],
    ["grpc_max_message_bytes", l.grpcMaxMessageBytes],
    ["request_queue_high", l.requestQueueHigh],
    ["request_queue_low", l.requestQueueLow],
    ["subscriber_queue", l.subscriberQueue],
    ["sse_write_stall_timeout", l.sseWriteStallTimeoutMs],
    ["sse_heartbeat_interval", l.sseHeartbeatIntervalMs],
    ["cancel_grace", l.cancelGraceMs],
    ["shutdown_timeout", l.shutdownTimeoutMs],
    ["tool_approval_timeout", l.toolApprovalTimeoutMs],
    ["injection_timeout", l.injectionTimeoutMs],
    ["pack_tool_timeout", l.packToolTimeoutMs],
    ["ws_max_payload_bytes", l.wsMaxPayloadBytes],
    ["ws_max_buffered_bytes", l.wsMaxBufferedBytes],
    ["ws_hello_timeout", l.wsHelloTimeoutMs],
    ["ws_tick_interval", l.wsTickIntervalMs],
    ["ws_pong_timeout", l.wsPongTimeoutMs],
    ["ws_max_subscriptions", l.wsMaxSubscriptions],
    ["ws_max_connections", l.wsMaxConnections],
  ];
  for (const [key, value] of values) {
    if (!(value > 0)) return `limits.${key} must be greater than 0`;
  }
  if (l.wsMaxConnectionsPerPrincipal < 0) return "limits.ws_max_connections_per_principal must not be negative";
  if (l.maxDepartedAgents < 0) return "limits.max_departed_agents must not be negative";
  if (l.wsMaxPayloadBytes < 1024 || l.wsMaxPayloadBytes > 67108864) {
    return "limits.ws_max_payload_bytes must be between 1024 and 67108864";
  }
  if (l.wsMaxBufferedBytes < l.wsMaxPayloadBytes) {
    return "limits.ws_max_buffered_bytes must be at least limits.ws_max_payload_bytes";
  }
  if (l.wsTickIntervalMs < 1000) return "limits.ws_tick_interval must be at least 1s";
  if (l.wsMaxSubscriptions > 1024) return "limits.ws_max_subscriptions must be between 1 and 1024";
  if (l.requestQueueLow >= l.requestQueueHigh) {
    return "limits.request_queue_low must be less than limits.request_queue_high";
  }
  return undefined;
}

/**
 * Checks `config` against spec §6 in row order, then auth.lockout and limits. Returns the first
 * failure's message (without the `validating config: ` prefix), or undefined when valid. Never throws.
 */
export function validateConfig(config: GatewayConfig, options: ValidateOptions = {}): string | undefined {
  const { server, auth, agents } = config;
  if (config.tailscale.enabled) {
    return "tailscale.enabled is not supported by this gateway yet; set tailscale.enabled: false and use server.grpc_addr / server.http_addr";
  }
  const missing = checkAddress("server.grpc_addr", server.grpcAddr) ?? checkAddress("server.http_addr", server.httpAddr);
  if (missing) return missing;
  const grpc = tryParseHostPort(server.grpcAddr);
  if (!grpc) return `server.grpc_addr: invalid address ${JSON.stringify(server.grpcAddr)} (expected host:port)`;
  const http = tryParseHostPort(server.httpAddr);
  if (!http) return `server.http_addr: invalid address ${JSON.stringify(server.httpAddr)} (expected host:port)`;
  if (grpc.port !== 0 && grpc.port === http.port && grpc.host.toLowerCase() === http.host.toLowerCase()) {
    return "server.grpc_addr and server.http_addr must differ";
  }
  if (config.database.path === "") return "database.path is required";
  if (options.jwtPlaceholder !== undefined && auth.jwtSecret === "") {
    return `auth.jwt_secret: environment variable ${options.jwtPlaceholder} is not set (refusing to start with auth disabled)`;
  }
  if (auth.jwtSecret !== "" && Buffer.byteLength(auth.jwtSecret, "utf8") < 32) {
    return "auth.jwt_secret: JWT secret must be at least 32 bytes";
  }
  const agentDurations: Array<[string, number]> = [
    ["heartbeat_interval", agents.heartbeatIntervalMs],
    ["heartbeat_timeout", agents.heartbeatTimeoutMs],
    ["reconnect_grace_period", agents.reconnectGracePeriodMs],
  ];
  for (const [key, ms] of agentDurations) {
    if (ms < 0) return `agents.${key} must not be negative`;
  }
  if (agents.heartbeatTimeoutMs === 0) return "agents.heartbeat_timeout must be greater than 0";
  if (config.webadmin.baseUrl !== "" && !isHttpUrl(config.webadmin.baseUrl)) {
    return "webadmin.base_url must be an absolute http(s) URL";
  }
  return checkLockout(config) ?? checkLimits(config) ?? validateOpsConfig(config);
}
