// ABOUTME: `coven-gateway serve`: load config, print the banner and auth warning, run until SIGINT/SIGTERM/SIGHUP.
// ABOUTME: Shutdown runs the gateway's ordered stop; a second signal exits at once with 130.
import { loadConfig, ConfigError } from "../../src/config/load-config.js";
import { createGateway } from "../../src/gateway/create-gateway.js";
import { createLineSink, type LineSink } from "../../src/lib/line-sink.js";
import { createLogger, createMemoryLogger } from "../../src/lib/logger.js";
import { routeGrpcLogs } from "../../src/rpc/grpc-logging.js";
import { paint, printError, type CliIo } from "./cli-io.js";
import { gatewayVersion, printAuthWarning } from "./startup-notices.js";

// String.raw keeps every backslash as drawn; the backticks of the art come in as "`" substitutions, since an
// escaped backtick would keep its backslash too.
const BANNER = String.raw`
                                                  _
  ___ _____   _____ _ __         __ _  __ _| |_ _____      ____ _ _   _
 / __/ _ \ \ / / _ \ '_ \ _____ / _${"`"} |/ _${"`"} | __/ _ \ \ /\ / / _${"`"} | | | |
| (_| (_) \ V /  __/ | | |_____| (_| | (_| | ||  __/\ V  V / (_| | |_| |
 \___\___/ \_/ \___|_| |_|      \__, |\__,_|\__\___| \_/\_/ \__,_|\__, |
                                |___/                             |___/
`;

/** Runs the server until a signal arrives; resolves with the exit code. */
export async function runServe(io: CliIo): Promise<number> {
  // Loading logs before the configured format is known; they are replayed through the real logger below.
  const bootLog = createMemoryLogger();
  let loaded;
  try {
    loaded = loadConfig({ env: io.env, log: bootLog });
  } catch (err) {
    printError(io, `loading config: ${err instanceof ConfigError ? err.message : String(err)}`);
    return 1;
  }
  const { config } = loaded;
  // With JSON logs, stdout carries nothing but JSON lines (cli.md §2.1): the human banner goes to stderr.
  const human = config.logging.format === "json" ? io.stderr : io.stdout;
  const arrow = paint(io, human, ["green"], "    ▶ ");
  human.write(paint(io, human, ["cyan"], BANNER) + "\n");
  human.write(paint(io, human, ["dim"], `    version: ${gatewayVersion()}`) + "\n\n");
  human.write(`${arrow}Config:    ${loaded.path}${loaded.fromFile ? "" : " (not found, using built-in defaults)"}\n`);
  human.write(`${arrow}gRPC:      ${config.server.grpcAddr}\n`);
  human.write(`${arrow}HTTP:      ${config.server.httpAddr}\n\n`);
  // Log lines are written directly until the gateway is up (so they interleave with the human notices in order),
  // then coalesced per event-loop turn; flushed on every way out, and on process exit if something ends it early.
  const sink = createLineSink(io.stdout);
  const flushOnExit = () => sink.flush();
  process.once("exit", flushOnExit);
  try {
    return await serveWithLog(io, loaded, bootLog, sink);
  } finally {
    sink.flush();
    process.removeListener("exit", flushOnExit);
  }
}

async function serveWithLog(
  io: CliIo,
  loaded: ReturnType<typeof loadConfig>,
  bootLog: ReturnType<typeof createMemoryLogger>,
  sink: LineSink,
): Promise<number> {
  const { config } = loaded;
  const log = createLogger({
    level: config.logging.level,
    format: config.logging.format,
    write: (l) => sink.write(l + "\n"),
    secrets: [config.auth.jwtSecret, config.metrics.token],
  });
  for (const entry of bootLog.entries) log[entry.level](entry.msg, entry.attrs);
  routeGrpcLogs(log);
  const authOn = config.auth.jwtSecret !== "";
  if (!authOn) {
    printAuthWarning(io, config);
    log.warn("auth disabled - no jwt_secret configured");
  }
  log.info("starting coven-gateway", { config: loaded.path, grpc_addr: config.server.grpcAddr, http_addr: config.server.httpAddr });
  const gateway = createGateway(config, { log, env: io.env });
  try {
    await gateway.start();
  } catch (err) {
    await gateway.stop();
    printError(io, `creating gateway: ${(err as Error).message}`);
    return 1;
  }
  if (authOn) log.info("auth interceptors enabled (JWT + SSH)");
  sink.defer();

  await waitForStop(io.signal);
  sink.flush();
  log.info("context canceled, initiating shutdown");
  const errors = await gateway.stop();
  // The gateway logged each failed step and the count at error; a supervisor must see the exit status too.
  if (errors.length > 0) return 1;
  log.info("shutdown complete");
  return 0;
}

function waitForStop(signal: AbortSignal | undefined): Promise<void> {
  if (signal) {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }
  return new Promise((resolve) => {
    let count = 0;
    const onSignal = () => {
      count += 1;
      if (count === 1) resolve();
      else process.exit(130);
    };
    // SIGHUP (the terminal running `npm start` closed) shuts down as gracefully as SIGTERM instead of dying at once.
    for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(name, onSignal);
  });
}
