// ABOUTME: Mailboxes where a script step waits for a keyed reply (ToolApprovalResponse by id, PackToolResult by request_id).
// ABOUTME: Waits end on delivery, on their own timeout, or when the request is stopped.

/** Keyed one-shot waits; several waiters on one key are served first come, first served. */
export class Waiters<T> {
  readonly #pending = new Map<string, Array<(value: T) => void>>();

  /**
   * Waits for `deliver(key, …)`. Resolves undefined after `timeoutMs`; rejects with the signal's reason when
   * `signal` aborts.
   */
  wait(key: string, timeoutMs: number, signal: AbortSignal): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const list = this.#pending.get(key);
        const at = list?.indexOf(onValue) ?? -1;
        if (list !== undefined && at !== -1) list.splice(at, 1);
        if (list !== undefined && list.length === 0) this.#pending.delete(key);
      };
      const onValue = (value: T) => {
        finish();
        resolve(value);
      };
      const onAbort = () => {
        finish();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        finish();
        resolve(undefined);
      }, timeoutMs);
      signal.addEventListener("abort", onAbort, { once: true });
      const list = this.#pending.get(key) ?? [];
      list.push(onValue);
      this.#pending.set(key, list);
    });
  }

  /** Hands `value` to the oldest waiter on `key`; false when nobody waits for it. */
  deliver(key: string, value: T): boolean {
    const first = this.#pending.get(key)?.[0];
    if (first === undefined) return false;
    first(value);
    return true;
  }
}
