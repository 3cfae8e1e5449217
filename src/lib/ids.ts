// ABOUTME: Id generation for requests, events, threads and instances.
// ABOUTME: Injectable so tests can make ids deterministic.
import { randomInt, randomUUID } from "node:crypto";

/** Produces fresh identifiers. */
export interface IdSource {
  uuid(): string;
}

/** Random UUIDv4 ids. */
export const randomIds: IdSource = { uuid: () => randomUUID() };

/** A fresh 12-character instance short code candidate: the first 12 characters of a lowercase UUIDv4. */
export function newInstanceId(): string {
  return randomUUID().slice(0, 12);
}

/** A `coven-gateway-N` server id, N chosen once per process in 0..999999. */
export function newServerId(): string {
  return `coven-gateway-${randomInt(0, 1_000_000)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical 8-4-4-4-12 hex UUID in any case. */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}
