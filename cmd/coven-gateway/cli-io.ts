// ABOUTME: The streams and environment a CLI command runs with, injectable for in-process tests.
// ABOUTME: Colour helpers honour TTY detection and NO_COLOR (cli.md §1.2).

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM/SIGHUP); tests pass their own. */
  signal?: AbortSignal;
}

const CODES = { cyan: 36, green: 32, yellow: 33, red: 31, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

/** Wraps text in ANSI colour codes when the stream is a TTY and NO_COLOR is unset. */
export function paint(io: CliIo, stream: CliIo["stdout"], colours: Colour[], text: string): string {
  if (!stream.isTTY || io.env.NO_COLOR !== undefined) return text;
  return colours.map((c) => `\u001b[${CODES[c]}m`).join("") + text + "\u001b[0m";
}

/** Writes `Error: <message>` to stderr (red on a TTY). */
export function printError(io: CliIo, message: string): void {
  io.stderr.write(paint(io, io.stderr, ["red"], `Error: ${message}`) + "\n");
}

/**
 * Lets a command finish quietly when its reader goes away (`coven-gateway bootstrap | head -3`): EPIPE on the
 * stream is dropped instead of crashing with a stack trace; the command's own work still completes.
 */
export function tolerateClosedReader(stream: NodeJS.WritableStream): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
}
