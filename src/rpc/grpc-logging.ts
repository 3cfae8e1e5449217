// ABOUTME: Routes grpc-js's own diagnostics (e.g. `No address added out of total 1 resolved` on a bind error) through
// ABOUTME: our Logger, so with `logging.format: json` every line the process logs is one JSON object.
import * as grpc from "@grpc/grpc-js";
import { format } from "node:util";
import type { Logger } from "../lib/logger.js";

/**
 * Installs `log` as grpc-js's process-wide logger (grpc-js severities E/I/D become error/info/debug with the text in
 * `detail`). Call once from the process entry point; tests of several gateways in one process leave it alone.
 */
export function routeGrpcLogs(log: Logger): void {
  const line = (level: "error" | "info" | "debug") => (message?: unknown, ...rest: unknown[]) => log[level]("grpc-js", { detail: format(message, ...rest) });
  grpc.setLogger({ error: line("error"), info: line("info"), debug: line("debug") });
}
