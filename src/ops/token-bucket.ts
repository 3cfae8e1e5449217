// ABOUTME: The one token-bucket implementation every rate limit uses (ops.md §2): a bounded family of buckets by key.
// ABOUTME: Capacity `burst`, continuous refill at `rate`/s, a refusal takes nothing; full buckets are evicted first.

export interface BucketSpec {
  /** Tokens per second; 0 disables the family (every take succeeds). */
  readonly rate: number;
  /** Capacity, a positive integer; a new bucket starts full. */
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Keys kept per family (ops.md §2). */
export const MAX_BUCKET_KEYS = 10_000;
/** How many of the least recently used keys are inspected for a full one before the oldest is dropped. */
const EVICTION_SCAN = 64;

/** Buckets keyed by principal, address, session or connection. Not thread-safe; one per scope per gateway. */
export class TokenBucketFamily {
  readonly #spec: BucketSpec;
  readonly #now: () => number;
  readonly #maxKeys: number;
  /** Map order is last-use order: the first entry was touched longest ago. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(spec: BucketSpec, options: { now: () => number; maxKeys?: number }) {
    this.#spec = spec;
    this.#now = options.now;
    this.#maxKeys = options.maxKeys ?? MAX_BUCKET_KEYS;
  }

  get isEnabled(): boolean {
    return this.#spec.rate > 0;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token for `key`. Returns 0 when granted, else the milliseconds until one token is available (> 0);
   * a refused take consumes nothing.
   */
  take(key: string): number {
    const { rate, burst } = this.#spec;
    if (!(rate > 0)) return 0;
    const nowMs = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      this.#makeRoom(nowMs);
      bucket = { tokens: burst, atMs: nowMs };
    } else {
      this.#buckets.delete(key);
      bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, nowMs - bucket.atMs) * rate) / 1000);
      bucket.atMs = nowMs;
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) / rate) * 1000));
  }

  #isFull(bucket: Bucket, nowMs: number): boolean {
    return bucket.tokens + (Math.max(0, nowMs - bucket.atMs) * this.#spec.rate) / 1000 >= this.#spec.burst;
  }

  /** Drops a full bucket (forgetting it changes nothing) among the oldest, else the least recently used one. */
  #makeRoom(nowMs: number): void {
    if (this.#buckets.size < this.#maxKeys) return;
    let scanned = 0;
    for (const [key, bucket] of this.#buckets) {
      if (this.#isFull(bucket, nowMs)) {
        this.#buckets.delete(key);
        return;
      }
      if (++scanned >= EVICTION_SCAN) break;
    }
    const oldest = this.#buckets.keys().next().value;
    if (oldest !== undefined) this.#buckets.delete(oldest);
  }
}
