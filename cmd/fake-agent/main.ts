// ABOUTME: The fake-agent command: parse flags, load the script, run 1..N agents, map outcomes to exit codes.
// ABOUTME: Testable in-process: all I/O and signals go through the injected MainIo.
import { RegistrationFailure } from "./agent-connection.js";
import { startFakeAgent, type FakeAgentHandle } from "./fake-agent.js";
import { fakeAgentUsage, parseFakeAgentArgs, UsageError, type FakeAgentArgs } from "./flags.js";
import type { FakeAgentOptions } from "./options.js";
import { loadScript } from "./script.js";
import { loadSshKey } from "./ssh-signer.js";
import { openTraceSink } from "./trace.js";

/** The process surface main needs; tests pass their own. */
export interface MainIo {
  /** Raw text for stdout (the `-events-out -` trace). */
  stdout(text: string): void;
  /** One diagnostic line for stderr (no trailing newline). */
  stderr(line: string): void;
  env: NodeJS.ProcessEnv;
  /** Subscribes to SIGINT/SIGTERM; returns the unsubscribe function. */
  onSignal(handler: (signal: string) => void): () => void;
}

/** MainIo bound to the real process. */
export function processIo(): MainIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (line) => process.stderr.write(line + "\n"),
    env: process.env,
    onSignal: (handler) => {
      process.on("SIGINT", handler);
      process.on("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
  };
}

function prepare(argv: string[], io: MainIo): FakeAgentArgs | number {
  let args: FakeAgentArgs;
  try {
    args = parseFakeAgentArgs(argv, io.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(err.message);
    if (err.exitCode !== 0) io.stderr(fakeAgentUsage());
    return err.exitCode;
  }
  try {
    if (args.scriptPath !== undefined) args.script = loadScript(args.scriptPath);
    if (args.sshKeyPath !== undefined) loadSshKey(args.sshKeyPath);
  } catch (err) {
    io.stderr((err as Error).message);
    return 2;
  }
  return args;
}

/** Printed after `registration failed: UNAUTHENTICATED: …`: the ways an agent gets into an auth-on gateway. */
export const AGENT_AUTH_HINT =
  "hint: this gateway has auth on. Let the agent in by registering its SSH key " +
  "(coven-admin agents create --name <name> --pubkey \"$(cat <key>.pub)\", then run with -ssh-key <key>), " +
  "by passing a JWT (-token or COVEN_TOKEN), or by setting auth.agent_auto_registration to pending or approved in the gateway config";

function instanceOptions(args: FakeAgentArgs, index: number, io: MainIo, trace: ((line: string) => void) | undefined, signal: AbortSignal): FakeAgentOptions {
  const { instances, scriptPath: _scriptPath, ...base } = args;
  const many = instances > 1;
  const id = many ? `${args.id}-${index}` : args.id;
  return {
    ...base,
    id,
    name: many ? `${args.name} ${index}` : args.name,
    eventsOut: trace,
    keepTrace: false,
    signal,
    log: many ? (line) => io.stderr(`[${id}] ${line}`) : io.stderr,
  };
}

/**
 * Runs the fake-agent CLI and resolves with its exit code: 0 after Shutdown or a signal, 1 after a stream error,
 * 2 for bad flags, a bad script or an unusable SSH key, 3 when registration fails (cli.md §4.2).
 */
export async function main(argv: string[], io: MainIo): Promise<number> {
  const prepared = prepare(argv, io);
  if (typeof prepared === "number") return prepared;
  const args = prepared;
  const sink = args.eventsOut === undefined ? undefined : openTraceSink(args.eventsOut === "-" ? (line) => io.stdout(line + "\n") : args.eventsOut);
  const handles: FakeAgentHandle[] = [];
  let signalled = false;
  const stopStarting = new AbortController();
  const unsubscribe = io.onSignal(() => {
    if (signalled) return;
    signalled = true;
    stopStarting.abort();
    for (const handle of handles) void handle.close();
  });
  try {
    const starts = Array.from({ length: args.instances }, (_, i) => startFakeAgent(instanceOptions(args, i + 1, io, sink?.write, stopStarting.signal)));
    const results = await Promise.allSettled(starts);
    for (const r of results) if (r.status === "fulfilled") handles.push(r.value);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure !== undefined) {
      await Promise.all(handles.map((h) => h.close()));
      if (signalled) return 0;
      const err = failure.reason as Error;
      if (err instanceof RegistrationFailure) {
        io.stderr(err.message);
        if (err.status === "UNAUTHENTICATED") io.stderr(AGENT_AUTH_HINT);
        return err.exitCode;
      }
      io.stderr(`Error: ${err.message}`);
      return 1;
    }
    if (signalled) await Promise.all(handles.map((h) => h.close()));
    const outcomes = await Promise.all(handles.map((h) => h.closed));
    if (signalled) return 0;
    return Math.max(0, ...outcomes.map((o) => o.code));
  } finally {
    unsubscribe();
    sink?.close();
  }
}
