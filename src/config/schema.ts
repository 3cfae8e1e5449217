// ABOUTME: The gateway.yaml key schema, the embedded defaults (spec §4) and the layering step (spec §1 step 6).
// ABOUTME: Layering type-checks each known key, warns about unknown ones and yields a flat dotted-path map.

import { ConfigError } from "./config-error.js";

/** The kind of value a leaf key holds. Durations stay text here; build-config parses them. */
export type LeafKind = "string" | "boolean" | "integer" | "number" | "duration" | "strings" | "list";
/** `list` leaves (guard rules, rate cards, budgets) keep their parsed YAML items; their own builder checks them. */
export type LeafValue = string | boolean | number | readonly string[] | readonly unknown[];

/** A mapping of YAML keys to leaf kinds or nested sections. */
export interface SchemaSection {
  readonly [key: string]: LeafKind | SchemaSection;
}

/** Every key gateway.yaml understands. */
export const CONFIG_SCHEMA: SchemaSection = {
  server: { grpc_addr: "string", http_addr: "string", trust_proxy: "boolean" },
  database: { path: "string" },
  auth: {
    jwt_secret: "string",
    agent_auto_registration: "string",
    lockout: { max_failures: "integer", window: "duration", duration: "duration", exempt_loopback: "boolean" },
  },
  agents: { heartbeat_interval: "duration", heartbeat_timeout: "duration", reconnect_grace_period: "duration" },
  logging: { level: "string", format: "string" },
  webadmin: { base_url: "string" },
  metrics: { enabled: "boolean", path: "string", token: "string" },
  rate_limits: {
    enabled: "boolean",
    http_per_principal: { rate: "number", burst: "number" },
    http_per_address: { rate: "number", burst: "number" },
    grpc_send: { rate: "number", burst: "number" },
    mcp_calls: { rate: "number", burst: "number" },
    ws_requests: { rate: "number", burst: "number" },
  },
  guard: { enabled: "boolean", default_rules: "boolean", rules: "list", max_input_chars: "integer" },
  costs: { currency: "string", rates: "list" },
  budgets: "list",
  frontends: {
    slack: { enabled: "boolean", app_token: "string", bot_token: "string", allowed_channels: "strings" },
    matrix: {
      enabled: "boolean",
      homeserver: "string",
      user_id: "string",
      access_token: "string",
      allowed_users: "strings",
      allowed_rooms: "strings",
    },
  },
  tailscale: {
    enabled: "boolean",
    hostname: "string",
    auth_key: "string",
    state_dir: "string",
    ephemeral: "boolean",
    https: "boolean",
    funnel: "boolean",
  },
  limits: {
    max_body_bytes: "integer",
    grpc_max_message_bytes: "integer",
    request_queue_high: "integer",
    request_queue_low: "integer",
    subscriber_queue: "integer",
    sse_write_stall_timeout: "duration",
    sse_heartbeat_interval: "duration",
    cancel_grace: "duration",
    shutdown_timeout: "duration",
    tool_approval_timeout: "duration",
    injection_timeout: "duration",
    pack_tool_timeout: "duration",
    ws_max_payload_bytes: "integer",
    ws_max_buffered_bytes: "integer",
    ws_hello_timeout: "duration",
    ws_tick_interval: "duration",
    ws_pong_timeout: "duration",
    ws_max_subscriptions: "integer",
    ws_max_connections: "integer",
    ws_max_connections_per_principal: "integer",
    max_departed_agents: "integer",
  },
};

/** Leaf values keyed by dotted path (`server.grpc_addr`). */
export type Settings = Readonly<Record<string, LeafValue>>;

/** The embedded defaults (spec §4 plus `auth.lockout`, `server.trust_proxy` and `limits`). */
export function defaultSettings(databasePath: string): Settings {
  return {
    "server.grpc_addr": "localhost:50051",
    "server.http_addr": "localhost:8080",
    "server.trust_proxy": false,
    "database.path": databasePath,
    "auth.jwt_secret": "",
    "auth.agent_auto_registration": "disabled",
    "auth.lockout.max_failures": 10,
    "auth.lockout.window": "60s",
    "auth.lockout.duration": "5m",
    "auth.lockout.exempt_loopback": false,
    "agents.heartbeat_interval": "30s",
    "agents.heartbeat_timeout": "90s",
    "agents.reconnect_grace_period": "5m",
    "logging.level": "info",
    "logging.format": "text",
    "webadmin.base_url": "",
    "metrics.enabled": true,
    "metrics.path": "/metrics",
    "metrics.token": "",
    "rate_limits.enabled": true,
    "rate_limits.http_per_principal.rate": 20,
    "rate_limits.http_per_principal.burst": 40,
    "rate_limits.http_per_address.rate": 100,
    "rate_limits.http_per_address.burst": 200,
    "rate_limits.grpc_send.rate": 20,
    "rate_limits.grpc_send.burst": 40,
    "rate_limits.mcp_calls.rate": 20,
    "rate_limits.mcp_calls.burst": 40,
    "rate_limits.ws_requests.rate": 50,
    "rate_limits.ws_requests.burst": 100,
    "guard.enabled": false,
    "guard.default_rules": true,
    "guard.rules": [],
    "guard.max_input_chars": 65536,
    "costs.currency": "USD",
    "costs.rates": [],
    "budgets": [],
    "frontends.slack.enabled": false,
    "frontends.slack.app_token": "",
    "frontends.slack.bot_token": "",
    "frontends.slack.allowed_channels": [],
    "frontends.matrix.enabled": false,
    "frontends.matrix.homeserver": "",
    "frontends.matrix.user_id": "",
    "frontends.matrix.access_token": "",
    "frontends.matrix.allowed_users": [],
    "frontends.matrix.allowed_rooms": [],
    "tailscale.enabled": false,
    "tailscale.hostname": "",
    "tailscale.auth_key": "",
    "tailscale.state_dir": "",
    "tailscale.ephemeral": false,
    "tailscale.https": false,
    "tailscale.funnel": false,
    "limits.max_body_bytes": 1048576,
    "limits.grpc_max_message_bytes": 4194304,
    "limits.request_queue_high": 256,
    "limits.request_queue_low": 64,
    "limits.subscriber_queue": 1024,
    "limits.sse_write_stall_timeout": "30s",
    "limits.sse_heartbeat_interval": "15s",
    "limits.cancel_grace": "10s",
    "limits.shutdown_timeout": "5s",
    "limits.tool_approval_timeout": "300s",
    "limits.injection_timeout": "30s",
    "limits.pack_tool_timeout": "30s",
    "limits.ws_max_payload_bytes": 1048576,
    "limits.ws_max_buffered_bytes": 1048576,
    "limits.ws_hello_timeout": "10s",
    "limits.ws_tick_interval": "15s",
    "limits.ws_pong_timeout": "30s",
    "limits.ws_max_subscriptions": 64,
    "limits.ws_max_connections": 10000,
    "limits.ws_max_connections_per_principal": 32,
    "limits.max_departed_agents": 1000,
  };
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

const KIND_NAMES: Readonly<Record<LeafKind, string>> = {
  string: "a string",
  boolean: "a boolean",
  integer: "an integer",
  number: "a number",
  list: "a list",
  duration: "a duration",
  strings: "a list of strings",
};

export interface LayerContext {
  /** The original source text of the scalar at `path` (so `timeout: 30` reads as "30"), if known. */
  readonly sourceText: (path: readonly string[]) => string | undefined;
  readonly warn: (message: string) => void;
}

function typeError(dotted: string, expected: string): ConfigError {
  return new ConfigError("parsing config file", `${dotted} must be ${expected}`);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Converts one present, non-null value to its kind; `undefined` means "take the default". */
function coerceLeaf(kind: LeafKind, value: unknown, path: readonly string[], ctx: LayerContext): LeafValue | undefined {
  const dotted = path.join(".");
  switch (kind) {
    case "string":
      if (typeof value === "string") return value;
      break;
    case "boolean": {
      if (typeof value === "boolean") return value;
      const word = typeof value === "string" ? BOOLEAN_WORDS[value.toLowerCase()] : undefined;
      if (word !== undefined) return word;
      break;
    }
    case "integer":
      if (typeof value === "number" && Number.isSafeInteger(value)) return value;
      break;
    case "duration":
      if (typeof value === "string") return value === "" ? undefined : value;
      // Go's yaml.v3 reads a bare number into a string field as its source text (`timeout: 30` -> "30").
      if (typeof value === "number") return ctx.sourceText(path) ?? String(value);
      break;
    case "number":
      if (typeof value === "number" && Number.isFinite(value)) return value;
      break;
    case "strings":
      if (Array.isArray(value) && value.every((item) => typeof item === "string")) return [...value];
      break;
    case "list":
      if (Array.isArray(value)) return [...(value as unknown[])];
      break;
  }
  throw typeError(dotted, KIND_NAMES[kind]);
}

function layerSection(
  section: SchemaSection,
  value: unknown,
  prefix: readonly string[],
  out: Record<string, LeafValue>,
  ctx: LayerContext,
): void {
  if (value === undefined || value === null) return;
  if (!isMapping(value)) throw typeError(prefix.join("."), "a mapping");
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, key];
    const kind = Object.hasOwn(section, key) ? section[key] : undefined;
    if (kind === undefined) {
      ctx.warn(`unknown config key: ${path.join(".")}`);
      continue;
    }
    if (typeof kind !== "string") {
      layerSection(kind, child, path, out, ctx);
      continue;
    }
    if (child === undefined || child === null) continue;
    const leaf = coerceLeaf(kind, child, path, ctx);
    if (leaf !== undefined) out[path.join(".")] = leaf;
  }
}

/**
 * Deep-merges the parsed YAML (`null` = empty file) over `defaults`: absent or null keys keep the
 * default, present values (including "") replace it, lists replace. Unknown keys are passed to
 * `ctx.warn` as `unknown config key: <dotted.path>`.
 * Throws ConfigError `parsing config file: <dotted.path> must be <kind>` on a type mismatch.
 */
export function layerSettings(parsed: unknown, defaults: Settings, ctx: LayerContext): Settings {
  if (parsed !== null && parsed !== undefined && !isMapping(parsed)) {
    throw new ConfigError("parsing config file", "the top level must be a mapping");
  }
  const out: Record<string, LeafValue> = { ...defaults };
  layerSection(CONFIG_SCHEMA, parsed, [], out, ctx);
  return out;
}
