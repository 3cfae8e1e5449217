// ABOUTME: Tests every validation row of config spec §6 (plus lockout and limits) with its exact message.
// ABOUTME: Goes through loadConfig over real temp files, so the `validating config: ` prefix is checked too.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createConfigFixture, GOOD_SECRET, loadError, loadText, type ConfigFixture } from "./fixture.js";

let fx: ConfigFixture;
beforeEach(() => {
  fx = createConfigFixture();
});
afterEach(() => {
  fx.cleanup();
});

const fail = (text: string, env?: NodeJS.ProcessEnv) => loadError(fx, text, env).replace(/^validating config: /, "");

describe("spec §6 validation rows", () => {
  it("row 1: tailscale.enabled is refused, before any other row", () => {
    const message =
      "tailscale.enabled is not supported by this gateway yet; set tailscale.enabled: false and use server.grpc_addr / server.http_addr";
    expect(loadError(fx, "tailscale:\n  enabled: true\n")).toBe(`validating config: ${message}`);
    expect(fail('tailscale:\n  enabled: yes\nserver:\n  grpc_addr: ""\n')).toBe(message);
  });

  it("row 2: empty server.grpc_addr", () => {
    expect(fail('server:\n  grpc_addr: ""\n  http_addr: ""\n')).toBe("server.grpc_addr is required");
  });

  it("row 3: empty server.http_addr, also when a placeholder expanded to nothing", () => {
    expect(fail('server:\n  http_addr: ""\n')).toBe("server.http_addr is required");
    expect(fail('server:\n  http_addr: "${UNSET_ADDR}"\n')).toBe("server.http_addr is required");
    // Unquoted, the empty expansion is a YAML null, which takes the default.
    expect(loadText(fx, "server:\n  http_addr: ${UNSET_ADDR}\n").config.server.httpAddr).toBe("localhost:8080");
  });

  it.each(["nope", "localhost", "host:99999", "host:-1", "host:http", "::1:50051", "[::1]50051", "localhost:"])(
    "row 4: rejects the address %j",
    (addr) => {
      expect(fail(`server:\n  grpc_addr: "${addr}"\n`)).toBe(`server.grpc_addr: invalid address "${addr}" (expected host:port)`);
      expect(fail(`server:\n  http_addr: "${addr}"\n`)).toBe(`server.http_addr: invalid address "${addr}" (expected host:port)`);
    },
  );

  it.each(["[::1]:50051", ":50051", "0.0.0.0:0", "gw.example.com:65535", "127.0.0.1:1"])("row 4: accepts %j", (addr) => {
    expect(loadText(fx, `server:\n  grpc_addr: "${addr}"\n`).config.server.grpcAddr).toBe(addr);
  });

  it("row 5: the same host and non-zero port twice", () => {
    expect(fail('server:\n  grpc_addr: "localhost:9000"\n  http_addr: "LOCALHOST:9000"\n')).toBe(
      "server.grpc_addr and server.http_addr must differ",
    );
    expect(loadText(fx, 'server:\n  grpc_addr: "localhost:0"\n  http_addr: "localhost:0"\n').config.server.httpAddr).toBe(
      "localhost:0",
    );
    expect(loadText(fx, 'server:\n  grpc_addr: "127.0.0.1:9000"\n  http_addr: "localhost:9000"\n').fromFile).toBe(true);
  });

  it("row 6: empty database.path", () => {
    expect(fail('database:\n  path: ""\n')).toBe("database.path is required");
  });

  it("row 7: the JWT placeholder resolved to empty", () => {
    expect(fail('auth:\n  jwt_secret: "${COVEN_JWT_SECRET}"\n')).toBe(
      "auth.jwt_secret: environment variable COVEN_JWT_SECRET is not set (refusing to start with auth disabled)",
    );
  });

  it("row 8: a secret shorter than 32 UTF-8 bytes", () => {
    const message = "auth.jwt_secret: JWT secret must be at least 32 bytes";
    expect(fail('auth:\n  jwt_secret: "short"\n')).toBe(message);
    expect(fail(`auth:\n  jwt_secret: "${"a".repeat(31)}"\n`)).toBe(message);
    expect(fail(`auth:\n  jwt_secret: "${"é".repeat(15)}"\n`)).toBe(message);
    expect(loadText(fx, `auth:\n  jwt_secret: "${"a".repeat(32)}"\n`).config.auth.jwtSecret).toHaveLength(32);
    expect(loadText(fx, `auth:\n  jwt_secret: "${"é".repeat(16)}"\n`).config.auth.jwtSecret).toHaveLength(16);
    expect(loadText(fx, `auth:\n  jwt_secret: "${GOOD_SECRET}"\n`).config.auth.jwtSecret).toBe(GOOD_SECRET);
  });

  it("row 9: negative agent durations", () => {
    expect(fail('agents:\n  heartbeat_interval: "-1s"\n')).toBe("agents.heartbeat_interval must not be negative");
    expect(fail('agents:\n  heartbeat_timeout: "-90s"\n')).toBe("agents.heartbeat_timeout must not be negative");
    expect(fail('agents:\n  reconnect_grace_period: "-5m"\n')).toBe("agents.reconnect_grace_period must not be negative");
  });

  it("row 10: a zero heartbeat timeout", () => {
    expect(fail("agents:\n  heartbeat_timeout: 0\n")).toBe("agents.heartbeat_timeout must be greater than 0");
    expect(fail('agents:\n  heartbeat_timeout: "0s"\n')).toBe("agents.heartbeat_timeout must be greater than 0");
    expect(loadText(fx, "agents:\n  heartbeat_interval: 0\n  reconnect_grace_period: 0s\n").fromFile).toBe(true);
  });

  it.each(["gw.example.com", "/relative", "ftp://gw.example.com", "https://gw.example.com/?a=1", "https://gw.example.com/#x", "http://", "https://gw example.com"])(
    "row 11: rejects base_url %j",
    (url) => {
      expect(fail(`webadmin:\n  base_url: "${url}"\n`)).toBe("webadmin.base_url must be an absolute http(s) URL");
    },
  );

  it("row 11: accepts http(s) URLs and removes a trailing /", () => {
    expect(loadText(fx, 'webadmin:\n  base_url: "https://gw.example.com/"\n').config.webadmin.baseUrl).toBe("https://gw.example.com");
    expect(loadText(fx, 'webadmin:\n  base_url: "http://localhost:8080/coven"\n').config.webadmin.baseUrl).toBe(
      "http://localhost:8080/coven",
    );
  });
});

describe("auth.lockout and limits validation", () => {
  it("rejects negative lockout values and a zero window while the lockout is on", () => {
    expect(fail("auth:\n  lockout:\n    max_failures: -1\n")).toBe("auth.lockout.max_failures must not be negative");
    expect(fail('auth:\n  lockout:\n    window: "-1s"\n')).toBe("auth.lockout.window must not be negative");
    expect(fail('auth:\n  lockout:\n    duration: "-1s"\n')).toBe("auth.lockout.duration must not be negative");
    expect(fail("auth:\n  lockout:\n    window: 0\n")).toBe("auth.lockout.window must be greater than 0");
    expect(fail("auth:\n  lockout:\n    duration: 0\n")).toBe("auth.lockout.duration must be greater than 0");
    expect(loadText(fx, "auth:\n  lockout:\n    max_failures: 0\n    window: 0\n").config.auth.lockout.maxFailures).toBe(0);
  });

  it.each([
    "max_body_bytes",
    "grpc_max_message_bytes",
    "request_queue_high",
    "request_queue_low",
    "subscriber_queue",
    "sse_write_stall_timeout",
    "sse_heartbeat_interval",
    "cancel_grace",
    "shutdown_timeout",
    "tool_approval_timeout",
    "injection_timeout",
    "pack_tool_timeout",
  ])("rejects limits.%s of 0", (key) => {
    expect(fail(`limits:\n  ${key}: 0\n`)).toBe(`limits.${key} must be greater than 0`);
  });

  it("rejects negative limits and a low mark not below the high mark", () => {
    expect(fail("limits:\n  subscriber_queue: -5\n")).toBe("limits.subscriber_queue must be greater than 0");
    expect(fail('limits:\n  cancel_grace: "-1s"\n')).toBe("limits.cancel_grace must be greater than 0");
    expect(fail("limits:\n  request_queue_low: 256\n")).toBe(
      "limits.request_queue_low must be less than limits.request_queue_high",
    );
  });

  it("takes limits.max_departed_agents (default 1000, 0 keeps none) and refuses a negative one", () => {
    expect(loadText(fx, "").config.limits.maxDepartedAgents).toBe(1000);
    expect(loadText(fx, "limits:\n  max_departed_agents: 0\n").config.limits.maxDepartedAgents).toBe(0);
    expect(loadText(fx, "limits:\n  max_departed_agents: 25\n").config.limits.maxDepartedAgents).toBe(25);
    expect(fail("limits:\n  max_departed_agents: -1\n")).toBe("limits.max_departed_agents must not be negative");
  });
});
