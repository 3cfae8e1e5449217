// ABOUTME: The web admin's mapping of domain failures to a status and a text to show (pages and XHR alike): a
// ABOUTME: GatewayError's code decides the status and its message is shown; INTERNAL and unknown errors are redacted.
import { isGatewayError, type ErrorReason } from "../lib/gateway-error.js";
import { HTTP_STATUS_BY_CODE } from "../lib/http-status.js";

/** GatewayError code -> HTTP status, as the JSON API answers them (http-api.md §2). */
const STATUS_BY_CODE = HTTP_STATUS_BY_CODE;

/** INTERNAL failures whose text the spec lists for a web admin action; any other INTERNAL text stays hidden. */
const SHOWN_INTERNAL_TEXT: Partial<Record<ErrorReason, string>> = {
  approval_send_failed: "failed to send approval",
};

/**
 * What the browser sees for `err`: `{status, message, isUnexpected}`. `fallback` is the text of a redacted failure
 * (an INTERNAL without a listed text, or anything that is not a GatewayError); those are `isUnexpected` and must be
 * logged with their cause by the caller.
 */
export function webErrorOf(err: unknown, fallback: string): { status: number; message: string; isUnexpected: boolean } {
  if (!isGatewayError(err)) return { status: 500, message: fallback, isUnexpected: true };
  const status = STATUS_BY_CODE[err.code];
  if (err.code !== "INTERNAL") return { status, message: err.message, isUnexpected: false };
  const shown = err.reason === undefined ? undefined : SHOWN_INTERNAL_TEXT[err.reason];
  return { status, message: shown ?? fallback, isUnexpected: true };
}
