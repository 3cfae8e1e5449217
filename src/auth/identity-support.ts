// ABOUTME: Small helpers shared by the identity services: the fixed-message INTERNAL wrapper.
// ABOUTME: Unexpected store failures are logged with their cause and surface only as the RPC's fixed text.
import { GatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";

/**
 * Returns `fail(message, fn)`: runs `fn`, passing GatewayErrors through and turning anything else into
 * GatewayError INTERNAL `message` (services.md §1: fixed INTERNAL texts, never an internal error text) after
 * logging the cause.
 */
export function internalFailure(log: Logger): <T>(message: string, fn: () => Promise<T>) => Promise<T> {
  return async (message, fn) => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      log.error(message, { cause: err });
      throw new GatewayError("INTERNAL", message, { cause: err });
    }
  };
}
