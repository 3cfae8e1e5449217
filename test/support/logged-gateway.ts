// ABOUTME: A whole test gateway whose JSON logger (level debug) writes into memory, for tests that read its lines.
// ABOUTME: Shared by the ops.md §6 log tests; the gateway is stopped by the caller's cleanups.
import { createLogger } from "../../src/lib/logger.js";
import type { Cleanups } from "../e2e/support/conversation-e2e.js";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "./gateway-harness.js";

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown>;

export interface LoggedGateway {
  gw: TestGateway;
  /** Every line as written, in order. */
  raw: string[];
  /** Every line so far, parsed. */
  lines: () => LogLine[];
}

/** Starts a gateway logging JSON at debug (with `secrets` registered for redaction) into memory. */
export async function startLoggedGateway(
  cleanups: Cleanups,
  options: TestGatewayOptions & { secrets?: string[] } = {},
): Promise<LoggedGateway> {
  const raw: string[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (line) => raw.push(line), secrets: options.secrets ?? [] });
  const gw = await startTestGateway({ ...options, log });
  cleanups.add(() => gw.stop());
  return { gw, raw, lines: () => raw.map((line) => JSON.parse(line) as LogLine) };
}
