// ABOUTME: The ledger paging cursor (padded base64 of `seq:<n>`) and the page-size rule (store.md §6).
// ABOUTME: Decoding is strict: anything that is not exactly that form is rejected as `undefined`.

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PAYLOAD_RE = /^seq:(0|[1-9][0-9]*)$/;

/** The default page size when none (or ≤ 0) is given. */
export const DEFAULT_PAGE_LIMIT = 50;
/** The largest page size; larger requests are clamped. */
export const MAX_PAGE_LIMIT = 500;

/** Encodes the seq of the last returned event as an opaque cursor. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`, "utf8").toString("base64");
}

/**
 * Decodes a cursor to its seq, or `undefined` when `text` is not canonical padded base64 of `seq:<decimal>`
 * (callers answer that with `invalid cursor`).
 */
export function decodeCursor(text: string): number | undefined {
  if (text.length === 0 || !BASE64_RE.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text) return undefined;
  const match = PAYLOAD_RE.exec(bytes.toString("utf8"));
  if (match === null) return undefined;
  const seq = Number(match[1]);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/** The effective page size: 50 when absent or ≤ 0, at most 500. */
export function normalizePageLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit) || limit <= 0) return DEFAULT_PAGE_LIMIT;
  return Math.min(Math.max(1, Math.floor(limit)), MAX_PAGE_LIMIT);
}
