// ABOUTME: An injectable clock so timestamps and timeouts are testable.
// ABOUTME: Timestamps use the store's fixed 24-char UTC ISO form with milliseconds.

/** Source of the current time; tests inject a controllable one. */
export interface Clock {
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/** Formats a date as `YYYY-MM-DDTHH:mm:ss.sssZ` (always 24 characters, so string order is time order). */
export function isoTimestamp(date: Date): string {
  return date.toISOString();
}
