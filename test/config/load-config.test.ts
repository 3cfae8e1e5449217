// ABOUTME: Tests loadConfig end to end over real temp files: locating, defaults, layering, ${VAR} expansion,
// ABOUTME: the JWT fail-closed rule, COVEN_DB_PATH, unknown keys, booleans, type errors, warnings and freezing.

import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, defaultConfig, defaultDataDir, loadConfig, resolveConfigPath } from "../../src/config/load-config.js";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { createConfigFixture, GOOD_SECRET, loadError, loadText, type ConfigFixture } from "./fixture.js";

let fx: ConfigFixture;
beforeEach(() => {
  fx = createConfigFixture();
});
afterEach(() => {
  fx.cleanup();
});

describe("config path and data dir", () => {
  it("prefers COVEN_CONFIG, then XDG_CONFIG_HOME, then ~/.config, then the working directory", () => {
    expect(resolveConfigPath({ COVEN_CONFIG: "/x/c.yaml", XDG_CONFIG_HOME: "/xdg" }, "/home/u")).toBe("/x/c.yaml");
    expect(resolveConfigPath({ COVEN_CONFIG: "", XDG_CONFIG_HOME: "/xdg" }, "/home/u")).toBe("/xdg/coven/gateway.yaml");
    expect(resolveConfigPath({ XDG_CONFIG_HOME: "" }, "/home/u")).toBe("/home/u/.config/coven/gateway.yaml");
    expect(resolveConfigPath({}, "")).toBe(path.resolve("gateway.yaml"));
  });

  it("puts the data dir under XDG_DATA_HOME, else ~/.local/share", () => {
    expect(defaultDataDir({ XDG_DATA_HOME: "/data" }, "/home/u")).toBe("/data/coven");
    expect(defaultDataDir({}, "/home/u")).toBe("/home/u/.local/share/coven");
    expect(defaultConfig({}, "/home/u").database.path).toBe("/home/u/.local/share/coven/gateway.db");
  });
});

describe("missing and unreadable files", () => {
  it("uses the embedded defaults when the default path has no file", () => {
    const log = createMemoryLogger();
    const env = { XDG_CONFIG_HOME: path.join(fx.dir, "cfg"), XDG_DATA_HOME: path.join(fx.dir, "data") };
    const loaded = loadConfig({ env, log, homeDir: fx.home });
    const expectedPath = path.join(fx.dir, "cfg", "coven", "gateway.yaml");
    expect(loaded.path).toBe(expectedPath);
    expect(loaded.fromFile).toBe(false);
    expect(loaded.config).toEqual(defaultConfig(env, fx.home));
    expect(loaded.config.server).toEqual({ grpcAddr: "localhost:50051", httpAddr: "localhost:8080", trustProxy: false });
    expect(loaded.config.database.path).toBe(path.join(fx.dir, "data", "coven", "gateway.db"));
    expect(loaded.config.auth.jwtSecret).toBe("");
    expect(loaded.config.auth.agentAutoRegistration).toBe("disabled");
    expect(log.entries).toEqual([
      { level: "info", msg: `no config file at ${expectedPath}; using built-in defaults`, attrs: {} },
    ]);
  });

  it("reads the file at the XDG default path when it exists", () => {
    fx.write("logging:\n  level: debug\n", "cfg/coven/gateway.yaml");
    const loaded = loadConfig({ env: { XDG_CONFIG_HOME: path.join(fx.dir, "cfg") }, homeDir: fx.home });
    expect(loaded.fromFile).toBe(true);
    expect(loaded.config.logging.level).toBe("debug");
  });

  it("fails when COVEN_CONFIG names a missing file", () => {
    const missing = path.join(fx.dir, "nope.yaml");
    const err = (() => {
      try {
        return loadConfig({ env: { COVEN_CONFIG: missing }, homeDir: fx.home });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).stage).toBe("reading config file");
    expect((err as ConfigError).message).toBe(`reading config file: ENOENT: no such file or directory, open '${missing}'`);
  });

  it("fails reading a directory", () => {
    expect(() => loadConfig({ env: { COVEN_CONFIG: fx.dir }, homeDir: fx.home })).toThrow(/^reading config file: EISDIR/);
  });
});

describe("layering over defaults", () => {
  it("gives every other key its default when the file sets only logging.level", () => {
    const { config, warnings } = loadText(fx, "logging:\n  level: debug\n");
    const defaults = defaultConfig({ XDG_DATA_HOME: path.join(fx.dir, "data") }, fx.home);
    expect(config).toEqual({ ...defaults, logging: { level: "debug", format: "text" } });
    expect(warnings).toEqual([]);
  });

  it("treats an empty or comment-only file as an empty mapping", () => {
    expect(loadText(fx, "").config.server.grpcAddr).toBe("localhost:50051");
    const loaded = loadText(fx, "# nothing here\n");
    expect(loaded.fromFile).toBe(true);
    expect(loaded.config.server.httpAddr).toBe("localhost:8080");
  });

  it("lets null and absent keys (and null sections) take the default", () => {
    const { config } = loadText(fx, "server:\n  grpc_addr: ~\n  http_addr:\nagents:\nlogging: null\n");
    expect(config.server.grpcAddr).toBe("localhost:50051");
    expect(config.server.httpAddr).toBe("localhost:8080");
    expect(config.agents.heartbeatTimeoutMs).toBe(90_000);
    expect(config.logging.level).toBe("info");
  });

  it("lets an explicit empty string override the default", () => {
    expect(loadError(fx, 'server:\n  grpc_addr: ""\n')).toBe("validating config: server.grpc_addr is required");
    expect(loadText(fx, 'webadmin:\n  base_url: ""\n').config.webadmin.baseUrl).toBe("");
  });

  it("treats an empty duration string as absent", () => {
    expect(loadText(fx, 'agents:\n  heartbeat_timeout: ""\n').config.agents.heartbeatTimeoutMs).toBe(90_000);
  });

  it("replaces lists instead of concatenating them", () => {
    const { config } = loadText(fx, "frontends:\n  slack:\n    allowed_channels: [a, b]\n  matrix:\n    allowed_rooms: []\n");
    expect(config.frontends.slack.allowedChannels).toEqual(["a", "b"]);
    expect(config.frontends.matrix.allowedRooms).toEqual([]);
  });

  it("parses Go durations, including a bare 0 and YAML numbers read as text", () => {
    const { config } = loadText(
      fx,
      'agents:\n  heartbeat_interval: "1m30s"\n  heartbeat_timeout: 1.5h\n  reconnect_grace_period: 0\n' +
        'limits:\n  cancel_grace: 300ms\nauth:\n  lockout:\n    window: 2m\n',
    );
    expect(config.agents).toEqual({ heartbeatIntervalMs: 90_000, heartbeatTimeoutMs: 5_400_000, reconnectGracePeriodMs: 0 });
    expect(config.limits.cancelGraceMs).toBe(300);
    expect(config.auth.lockout.windowMs).toBe(120_000);
  });

  it("reports a duration without a unit with the key and value", () => {
    const expected = 'parsing durations: parsing agents.heartbeat_timeout "30": missing unit in duration "30"';
    expect(loadError(fx, 'agents:\n  heartbeat_timeout: "30"\n')).toBe(expected);
    expect(loadError(fx, "agents:\n  heartbeat_timeout: 30\n")).toBe(expected);
    expect(loadError(fx, "limits:\n  shutdown_timeout: 5x\n")).toBe(
      'parsing durations: parsing limits.shutdown_timeout "5x": unknown unit "x" in duration "5x"',
    );
  });

  it("reads limits, lockout and trust_proxy", () => {
    const { config } = loadText(
      fx,
      "server:\n  trust_proxy: true\nauth:\n  lockout:\n    max_failures: 0\n    exempt_loopback: yes\n" +
        "limits:\n  max_body_bytes: 2048\n  request_queue_high: 10\n  request_queue_low: 2\n  tool_approval_timeout: 1m\n",
    );
    expect(config.server.trustProxy).toBe(true);
    expect(config.auth.lockout).toEqual({ maxFailures: 0, windowMs: 60_000, durationMs: 300_000, exemptLoopback: true });
    expect(config.limits).toMatchObject({ maxBodyBytes: 2048, requestQueueHigh: 10, requestQueueLow: 2, toolApprovalTimeoutMs: 60_000 });
    expect(config.limits.grpcMaxMessageBytes).toBe(4_194_304);
  });
});

describe("${VAR} expansion in the loader", () => {
  it("substitutes set variables", () => {
    const { config, warnings } = loadText(fx, 'auth:\n  jwt_secret: "${S}"\n', { S: GOOD_SECRET });
    expect(config.auth.jwtSecret).toBe(GOOD_SECRET);
    expect(warnings).toEqual([]);
  });

  it("turns an unset variable into \"\" and warns with var=<NAME>", () => {
    const { config, warnings, log } = loadText(fx, 'webadmin:\n  base_url: "${NOPE}"\n');
    expect(config.webadmin.baseUrl).toBe("");
    expect(warnings).toEqual(["environment variable not set in config var=NOPE"]);
    expect(log.entries).toEqual([{ level: "warn", msg: "environment variable not set in config", attrs: { var: "NOPE" } }]);
  });

  it("expands inside comments (a value with newlines there changes the config)", () => {
    const loaded = loadText(fx, "# ${INJECT}\nserver:\n  trust_proxy: false\n", { INJECT: "x\nlogging:\n  level: debug" });
    expect(loaded.config.logging.level).toBe("debug");
    expect(loadText(fx, "# see ${IN_COMMENT}\n").warnings).toEqual(["environment variable not set in config var=IN_COMMENT"]);
  });

  it("has no default syntax: ${A:-b} yields \"\"", () => {
    const { config, warnings } = loadText(fx, 'logging:\n  format: "${A:-/m}"\n', { A: "set" });
    expect(config.logging.format).toBe("text");
    expect(warnings).toEqual(["environment variable not set in config var=A:-/m"]);
  });

  it("inserts values raw, so values with `#`, `: ` or digits need quotes", () => {
    const env = { V: "host # tail", NUM: "12345", COLON: "a: b" };
    const quoted = loadText(fx, 'tailscale:\n  hostname: "${V}"\n  state_dir: "${NUM}"\n  auth_key: "${COLON}"\n', env);
    expect(quoted.config.tailscale).toMatchObject({ hostname: "host # tail", stateDir: "12345", authKey: "a: b" });
    expect(loadText(fx, "tailscale:\n  hostname: ${V}\n", env).config.tailscale.hostname).toBe("host");
    expect(loadError(fx, "tailscale:\n  hostname: ${NUM}\n", env)).toBe(
      "parsing config file: tailscale.hostname must be a string",
    );
    expect(loadError(fx, "tailscale:\n  hostname: ${COLON}\n", env)).toMatch(/^parsing config file: [^\n]+$/);
  });
});

describe("JWT secret fail-closed rule", () => {
  const refusal = (name: string) =>
    `validating config: auth.jwt_secret: environment variable ${name} is not set (refusing to start with auth disabled)`;

  it("refuses to start when the placeholder is unset, quoted or not", () => {
    expect(loadError(fx, 'auth:\n  jwt_secret: "${COVEN_JWT_SECRET}"\n')).toBe(refusal("COVEN_JWT_SECRET"));
    expect(loadError(fx, "auth:\n  jwt_secret: ${COVEN_JWT_SECRET}\n")).toBe(refusal("COVEN_JWT_SECRET"));
  });

  it("refuses when the placeholder is set but empty, and names the unset part", () => {
    expect(loadError(fx, 'auth:\n  jwt_secret: "${S}"\n', { S: "" })).toBe(refusal("S"));
    expect(loadError(fx, 'auth:\n  jwt_secret: "${A}${B}"\n', { A: "" })).toBe(refusal("A"));
  });

  it("runs with auth off for a literal empty secret or an omitted key", () => {
    expect(loadText(fx, 'auth:\n  jwt_secret: ""\n').config.auth.jwtSecret).toBe("");
    expect(loadText(fx, "auth:\n  agent_auto_registration: approved\n").config.auth.jwtSecret).toBe("");
  });

  it("skips the check when the unexpanded text does not parse", () => {
    const text = 'auth:\n  jwt_secret: "${S}"\n${EXTRA}\n';
    const { config } = loadText(fx, text);
    expect(config.auth.jwtSecret).toBe("");
  });
});

describe("COVEN_DB_PATH", () => {
  it("overrides database.path from the file and from the defaults", () => {
    expect(loadText(fx, "database:\n  path: /a/b.db\n", { COVEN_DB_PATH: "/c/d.db" }).config.database.path).toBe("/c/d.db");
    const env = { COVEN_DB_PATH: "/c/d.db", XDG_CONFIG_HOME: path.join(fx.dir, "cfg") };
    expect(loadConfig({ env, homeDir: fx.home }).config.database.path).toBe("/c/d.db");
  });

  it("applies before validation, so an empty database.path passes with it", () => {
    expect(loadError(fx, 'database:\n  path: ""\n')).toBe("validating config: database.path is required");
    expect(loadText(fx, 'database:\n  path: ""\n', { COVEN_DB_PATH: ":memory:" }).config.database.path).toBe(":memory:");
  });

  it("is ignored when empty", () => {
    expect(loadText(fx, "database:\n  path: /a/b.db\n", { COVEN_DB_PATH: "" }).config.database.path).toBe("/a/b.db");
  });
});

describe("unknown keys, enums and feature warnings", () => {
  it("warns about each unknown key with its dotted path and ignores it", () => {
    const { warnings, log, config } = loadText(
      fx,
      "server:\n  grcp_addr: x\nfoo: 1\nfrontends:\n  irc:\n    enabled: true\nauth:\n  lockout:\n    tries: 3\n",
    );
    expect(warnings).toEqual([
      "unknown config key: server.grcp_addr",
      "unknown config key: foo",
      "unknown config key: frontends.irc",
      "unknown config key: auth.lockout.tries",
    ]);
    expect(log.entries.map((e) => [e.level, e.msg])).toEqual(warnings.map((w) => ["warn", w]));
    expect(config.server.grpcAddr).toBe("localhost:50051");
  });

  it("maps an unknown logging.level to info with a warning, and any non-json format to text", () => {
    const { config, warnings } = loadText(fx, "logging:\n  level: verbose\n  format: pretty\n");
    expect(config.logging).toEqual({ level: "info", format: "text" });
    expect(warnings).toEqual(['unknown logging.level "verbose", using info']);
    expect(loadText(fx, "logging:\n  level: error\n  format: json\n").config.logging).toEqual({ level: "error", format: "json" });
  });

  it("maps agent_auto_registration values, treating unknown ones as pending with a warning", () => {
    const mode = (v: string) => loadText(fx, `auth:\n  agent_auto_registration: "${v}"\n`);
    expect(mode("approved").config.auth.agentAutoRegistration).toBe("approved");
    expect(mode("pending").config.auth.agentAutoRegistration).toBe("pending");
    expect(mode("").config.auth.agentAutoRegistration).toBe("disabled");
    const odd = mode("auto");
    expect(odd.config.auth.agentAutoRegistration).toBe("pending");
    expect(odd.warnings).toEqual(['unknown auth.agent_auto_registration "auto", treating it as pending']);
  });

  it("warns when frontends are enabled (metrics are implemented and warn no more, ops.md §8)", () => {
    const { warnings } = loadText(
      fx,
      "metrics:\n  enabled: true\nfrontends:\n  slack:\n    enabled: true\n  matrix:\n    enabled: true\n",
    );
    expect(warnings).toEqual([
      "frontends.slack is not implemented in the gateway; ignored",
      "frontends.matrix is not implemented in the gateway; ignored",
    ]);
  });
});

describe("booleans and type errors", () => {
  it.each([
    ["true", true],
    ["false", false],
    ["True", true],
    ["yes", true],
    ["No", false],
    ["ON", true],
    ["off", false],
    ['"yes"', true],
  ])("reads %s as %s", (text, value) => {
    expect(loadText(fx, `metrics:\n  enabled: ${text}\n`).config.metrics.enabled).toBe(value);
  });

  it.each([
    ["server:\n  grpc_addr: 8080\n", "server.grpc_addr must be a string"],
    ["server:\n  http_addr: [a]\n", "server.http_addr must be a string"],
    ["metrics:\n  enabled: maybe\n", "metrics.enabled must be a boolean"],
    ["metrics:\n  enabled: 1\n", "metrics.enabled must be a boolean"],
    ["frontends:\n  slack:\n    allowed_channels: general\n", "frontends.slack.allowed_channels must be a list of strings"],
    ["frontends:\n  matrix:\n    allowed_users: [1, a]\n", "frontends.matrix.allowed_users must be a list of strings"],
    ['auth:\n  lockout:\n    max_failures: "10"\n', "auth.lockout.max_failures must be an integer"],
    ["limits:\n  max_body_bytes: 1.5\n", "limits.max_body_bytes must be an integer"],
    ["agents:\n  heartbeat_timeout: [30s]\n", "agents.heartbeat_timeout must be a duration"],
    ["agents:\n  heartbeat_timeout: true\n", "agents.heartbeat_timeout must be a duration"],
    ["server: 5\n", "server must be a mapping"],
    ["frontends:\n  slack: [x]\n", "frontends.slack must be a mapping"],
    ["- a\n- b\n", "the top level must be a mapping"],
  ])("rejects %j", (text, detail) => {
    expect(loadError(fx, text)).toBe(`parsing config file: ${detail}`);
  });

  it("reports YAML syntax errors and duplicate keys on one line", () => {
    expect(loadError(fx, "server:\n  grpc_addr: [x\n")).toMatch(/^parsing config file: [^\n]+ at line \d+, column \d+$/);
    expect(loadError(fx, "logging:\n  level: a\n  level: b\n")).toMatch(/^parsing config file: Map keys must be unique/);
    expect(loadError(fx, "a: 1\n---\nb: 2\n")).toBe("parsing config file: the file must contain a single YAML document");
  });

  it.each([
    ["an unclosed quote", 'server:\n  grpc_addr: "a\n  http_addr: b\nlogging:\n  level: info\n', /Missing closing "quote at line 2, column 14$/],
    ["an unclosed flow sequence", "server:\n  grpc_addr: [a\nlogging:\n  level: info\n", / at line 2, column 14$/],
    ["a mis-indented key", "server:\n  grpc_addr: a\n   http_addr: b\n", / at line 2, column 14$/],
  ])("points a YAML syntax error at the line of the fault, not past the end of the file (%s)", (_name, text, line) => {
    expect(loadError(fx, text)).toMatch(line);
  });
});

describe("the result", () => {
  it("is deeply frozen", () => {
    const { config } = loadText(fx, "frontends:\n  slack:\n    allowed_channels: [a]\n");
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.auth.lockout)).toBe(true);
    expect(Object.isFrozen(config.frontends.slack.allowedChannels)).toBe(true);
    expect(() => {
      (config.server as { grpcAddr: string }).grpcAddr = "x";
    }).toThrow(TypeError);
  });

  it("reads a UTF-8 file with a byte-order mark", () => {
    fx.write("\uFEFFlogging:\n  level: warn\n");
    const loaded = loadConfig({ env: { COVEN_CONFIG: path.join(fx.dir, "gateway.yaml") }, homeDir: fx.home });
    expect(loaded.config.logging.level).toBe("warn");
    expect(fs.existsSync(loaded.path)).toBe(true);
  });
});
