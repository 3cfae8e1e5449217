// ABOUTME: A line sink that coalesces the log lines of one event-loop turn into a single write to its stream.
// ABOUTME: Direct until deferral is switched on; flush() empties it at once (shutdown, process exit).

/** The stream a sink writes to (process.stdout, or a test's capture stream). */
export interface LineSinkTarget {
  write(chunk: string): unknown;
}

export interface LineSink {
  /** Writes one line (the caller adds the newline). */
  write(line: string): void;
  /** From now on lines are held until the end of the current event-loop turn, or until `maxBytes` are pending. */
  defer(): void;
  /** Writes everything pending now and returns to direct writes. */
  flush(): void;
}

/** Default cap on held bytes: beyond it the pending lines are written at once instead of waiting for the turn. */
export const LINE_SINK_MAX_BYTES = 64 * 1024;

/**
 * Under load a request logs its access line and its turn lines from many callbacks of the same event-loop turn;
 * writing each with its own synchronous write(2) to a pipe cost about a fifth of the gateway's busy time in the
 * issue 10 profile. Holding them until setImmediate turns N syscalls into one, and keeps their order.
 */
export function createLineSink(target: LineSinkTarget, maxBytes: number = LINE_SINK_MAX_BYTES): LineSink {
  let deferred = false;
  let pending: string[] = [];
  let pendingBytes = 0;
  let scheduled = false;

  const drain = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.length === 1 ? pending[0]! : pending.join("");
    pending = [];
    pendingBytes = 0;
    target.write(chunk);
  };

  return {
    write(line) {
      if (!deferred) {
        target.write(line);
        return;
      }
      pending.push(line);
      pendingBytes += line.length;
      if (pendingBytes >= maxBytes) {
        drain();
        return;
      }
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
    defer() {
      deferred = true;
    },
    flush() {
      deferred = false;
      drain();
    },
  };
}
