// ABOUTME: The fake agent's option set and its defaults (shared/spec/cli.md §4.1).
// ABOUTME: One place for defaults so the CLI flags and the in-process API agree.
import type { Script } from "./script.js";

/** Everything one fake agent needs to connect, register and reply. */
export interface FakeAgentOptions {
  addr: string;
  name: string;
  id: string;
  capabilities: string[];
  workdir: string;
  backend: string;
  workspaces: string[];
  features: string[];
  token?: string;
  sshKeyPath?: string;
  script?: Script;
  chunks: number;
  chunkDelayMs: number;
  doneDelayMs: number;
  heartbeatMs: number;
  reconnect: boolean;
  /** A file path (`-` = stdout) or a line sink for the JSONL trace. */
  eventsOut?: string | ((line: string) => void);
  /** Sink for diagnostic lines (the CLI sends them to stderr). */
  log?: (line: string) => void;
  /** Stops a `reconnect` agent still retrying its first connection (the CLI aborts it on Ctrl-C). */
  signal?: AbortSignal;
  /** Keep every traced message in `handle.trace` (default true; the CLI turns it off to bound memory). */
  keepTrace?: boolean;
}

/** The defaults of §4.1 (`-token` defaults to `$COVEN_TOKEN`, resolved by the flag parser, not here). */
export const DEFAULT_OPTIONS: Readonly<FakeAgentOptions> = Object.freeze({
  addr: "localhost:50051",
  name: "Echo Agent",
  id: "e2e-echo-agent",
  capabilities: ["chat", "echo"],
  workdir: "/tmp/fake-agent",
  backend: "direct",
  workspaces: [],
  features: [],
  chunks: 1,
  chunkDelayMs: 0,
  doneDelayMs: 50,
  heartbeatMs: 0,
  reconnect: false,
});

/** Fills the unset fields of `partial` from DEFAULT_OPTIONS (arrays are copied, never shared). */
export function resolveOptions(partial: Partial<FakeAgentOptions> & { addr: string }): FakeAgentOptions {
  const merged: FakeAgentOptions = { ...DEFAULT_OPTIONS };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  merged.capabilities = [...merged.capabilities];
  merged.workspaces = [...merged.workspaces];
  merged.features = [...merged.features];
  return merged;
}
