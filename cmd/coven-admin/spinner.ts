// ABOUTME: The one-line "waiting for the agent" spinner with elapsed seconds that `chat` shows on stderr while a
// ABOUTME: turn has no payload yet; only on a TTY, and erased (carriage return + clear line) once output starts.

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Spinner {
  /** Erases the line; safe to call more than once. */
  stop(): void;
}

/** Starts drawing on `stream` at once and every `intervalMs`; on a non-TTY it draws nothing. */
export function startSpinner(stream: NodeJS.WritableStream & { isTTY?: boolean }, label: string, intervalMs = 100, now: () => number = Date.now): Spinner {
  if (!stream.isTTY) return { stop() {} };
  const started = now();
  let frame = 0;
  const draw = () => {
    const seconds = Math.floor((now() - started) / 1_000);
    stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} ${seconds}s\u001b[K`);
  };
  draw();
  const timer = setInterval(draw, intervalMs);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stream.write("\r\u001b[K");
    },
  };
}
