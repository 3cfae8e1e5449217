// ABOUTME: The fake agent's public API: start one agent in-process, observe its trace, close or drop it.
// ABOUTME: Owns the connection lifecycle: registration, exit classification and `-reconnect` with 0.5-10 s backoff.
import type * as pb from "../../src/gen/coven_pb.js";
import { AgentConnection, RegistrationFailure, type ConnectionEnd } from "./agent-connection.js";
import { resolveOptions, type FakeAgentOptions } from "./options.js";
import { loadSshKey, sshAuthMetadata, type SshKey } from "./ssh-signer.js";
import { openTraceSink, Tracer, type TraceEntry } from "./trace.js";

export { parseFakeAgentArgs, UsageError, type FakeAgentArgs } from "./flags.js";
export { DEFAULT_OPTIONS, type FakeAgentOptions } from "./options.js";
export { loadScript, parseScript, type Script, type Step } from "./script.js";
export { RegistrationFailure } from "./agent-connection.js";
export type { TraceEntry } from "./trace.js";

/** The Welcome fields a test needs, as plain values. */
export interface WelcomeInfo {
  agentId: string;
  instanceId: string;
  principalId: string;
  serverId: string;
  mcpToken: string;
  mcpEndpoint: string;
  secrets: Record<string, string>;
  availableTools: string[];
}

/** A running fake agent. */
export interface FakeAgentHandle {
  /** The latest Welcome (updated after each reconnect). */
  readonly welcome: WelcomeInfo;
  /** Every message in and out, as written to `-events-out`. */
  readonly trace: TraceEntry[];
  /** Resolves once the agent stops for good: 0 after Shutdown or close(), 1 after a stream error. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Abruptly resets the stream, like the `disconnect` step (with `reconnect` the agent then reconnects). */
  disconnect(): void;
  /** Graceful half-close; the agent stops for good (no reconnect). */
  close(): Promise<void>;
  sendHeartbeat(): void;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

function welcomeInfo(w: pb.Welcome): WelcomeInfo {
  return {
    agentId: w.agentId,
    instanceId: w.instanceId,
    principalId: w.principalId,
    serverId: w.serverId,
    mcpToken: w.mcpToken,
    mcpEndpoint: w.mcpEndpoint,
    secrets: { ...w.secrets },
    availableTools: w.availableTools.map((t) => t.name),
  };
}

function describeEnd(end: ConnectionEnd): string {
  switch (end.kind) {
    case "shutdown":
      return `shutdown: ${end.reason}`;
    case "closed":
      return "closed";
    case "disconnected":
      return "disconnected";
    case "error":
      return `stream error: ${end.status}: ${end.detail}`;
    case "eof":
      return "stream ended by gateway";
  }
}

class FakeAgent implements FakeAgentHandle {
  readonly #options: FakeAgentOptions;
  readonly #tracer: Tracer;
  readonly #log: (line: string) => void;
  readonly #sshKey: SshKey | undefined;
  readonly #closeSink: () => void;
  #connection: AgentConnection | undefined;
  #welcome!: WelcomeInfo;
  #stopping = false;
  #wakeBackoff: (() => void) | undefined;
  #resolveClosed!: (result: { code: number; reason: string }) => void;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(options: FakeAgentOptions) {
    this.#options = options;
    this.#log = options.log ?? ((line) => process.stderr.write(line + "\n"));
    this.#sshKey = options.sshKeyPath === undefined ? undefined : loadSshKey(options.sshKeyPath);
    const sink = options.eventsOut === undefined ? undefined : openTraceSink(options.eventsOut);
    this.#closeSink = () => sink?.close();
    this.#tracer = new Tracer(options.id, sink?.write, options.keepTrace ?? true);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get welcome(): WelcomeInfo {
    return this.#welcome;
  }

  get trace(): TraceEntry[] {
    return this.#tracer.entries;
  }

  #headers(): Record<string, string> {
    if (this.#sshKey !== undefined) return sshAuthMetadata(this.#sshKey);
    if (this.#options.token !== undefined) return { authorization: `Bearer ${this.#options.token}` };
    return {};
  }

  async #connect(): Promise<AgentConnection> {
    const { connection, welcome } = await AgentConnection.open({
      options: this.#options,
      tracer: this.#tracer,
      log: this.#log,
      headers: this.#headers(),
    });
    this.#connection = connection;
    this.#welcome = welcomeInfo(welcome);
    return connection;
  }

  /**
   * First connection. A failure is final (exit 3), except that with `reconnect` a gateway that is down or restarting
   * (RegistrationFailure.isTransient) is retried with the same backoff until it answers or `signal` aborts.
   */
  async start(): Promise<void> {
    let backoff = BACKOFF_MIN_MS;
    try {
      for (;;) {
        try {
          const connection = await this.#connect();
          void this.#supervise(connection);
          return;
        } catch (err) {
          if (!this.#options.reconnect || !(err instanceof RegistrationFailure) || !err.isTransient) throw err;
          this.#log(`${err.message}; retrying in ${backoff}ms`);
          await this.#sleep(backoff, this.#options.signal);
          if (this.#options.signal?.aborted) throw new Error("stopped before the first connection");
          backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        }
      }
    } catch (err) {
      this.#closeSink();
      throw err;
    }
  }

  #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#wakeBackoff = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      this.#wakeBackoff = done;
    });
  }

  async #supervise(first: AgentConnection): Promise<void> {
    let connection: AgentConnection | undefined = first;
    let backoff = BACKOFF_MIN_MS;
    for (;;) {
      const end: ConnectionEnd = await connection.ended;
      this.#connection = undefined;
      const reason = describeEnd(end);
      // With `reconnect`, a Shutdown is a gateway restarting: come back once it listens again.
      const final = this.#stopping || end.kind === "closed" || !this.#options.reconnect;
      if (final) {
        if (end.kind === "error" || end.kind === "eof") this.#log(reason);
        this.#finish({ code: end.kind === "shutdown" || end.kind === "closed" ? 0 : 1, reason });
        return;
      }
      connection = undefined;
      while (connection === undefined) {
        this.#log(`${reason}; reconnecting in ${backoff}ms`);
        await this.#sleep(backoff);
        if (this.#stopping) {
          this.#finish({ code: 0, reason: "closed" });
          return;
        }
        try {
          connection = await this.#connect();
          backoff = BACKOFF_MIN_MS;
          if (this.#stopping) void connection.close();
        } catch (err) {
          backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
          this.#log(`reconnect failed: ${(err as Error).message}`);
        }
      }
    }
  }

  #finish(result: { code: number; reason: string }): void {
    this.#closeSink();
    this.#resolveClosed(result);
  }

  disconnect(): void {
    this.#connection?.disconnect();
  }

  async close(): Promise<void> {
    this.#stopping = true;
    this.#wakeBackoff?.();
    await this.#connection?.close();
    await this.closed;
  }

  sendHeartbeat(): void {
    this.#connection?.sendHeartbeat();
  }
}

/**
 * Starts one fake agent (cli.md §4) against `options.addr`; other options default as in §4.1. Resolves after
 * Welcome. Rejects with RegistrationFailure (exitCode 3, message `registration rejected: …` or
 * `registration failed: <STATUS>: <detail>`), or with `ssh key error: …` when `sshKeyPath` is unusable.
 */
export async function startFakeAgent(options: Partial<FakeAgentOptions> & { addr: string }): Promise<FakeAgentHandle> {
  const agent = new FakeAgent(resolveOptions(options));
  await agent.start();
  return agent;
}
