// ABOUTME: Serializes async work per key (e.g. concurrent sends with the same idempotency key).
// ABOUTME: Keys are forgotten when their last holder finishes, so memory stays bounded by concurrency.

/** Runs callbacks one at a time per key, in call order. */
export class KeyedMutex {
  #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.then(fn, fn);
    const tail = current.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
