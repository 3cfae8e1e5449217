// ABOUTME: Live external packs (packs-mcp.md §2): present exactly while their Register stream is open, each with a
// ABOUTME: FIFO outbound queue, and every pending call tracked by request_id with its timeout, cancel and disconnect.
import type { PackToolOutcome } from "../agent/agent-ports.js";
import type { StreamEnd, ToolDefinition } from "../agent/agent-frames.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import { RouterError } from "./router-error.js";
import type { PackManifest, ToolRegistry } from "./tool-registry.js";

/** One request forwarded to a pack on its Register stream. */
export interface PackRequest {
  toolName: string;
  inputJson: string;
  requestId: string;
}

/** How a pack's stream is ended by the gateway: `UNAVAILABLE` on shutdown, `PERMISSION_DENIED` on revocation. */
export type PackStreamEnd = StreamEnd;

/** The transport side of one Register stream, as the rpc edge provides it. */
export interface PackStream {
  /** Writes one request; resolves once the transport took it (backpressure), rejects when the stream is gone. */
  send(request: PackRequest): Promise<void>;
  /** Ends the stream with a status. Called at most once, and never after the pack itself ended it. */
  end(end: PackStreamEnd): void;
}

/** A registered pack, as handed back to the edge that owns its stream. */
export interface PackRegistration {
  packId: string;
  tools: ToolDefinition[];
  /** The stream ended (pack cancelled, connection dropped): the pack leaves and its pending calls fail. */
  disconnected(): void;
}

export interface ExternalCall {
  packId: string;
  toolName: string;
  inputJson: string;
  requestId: string;
  timeoutMs: number;
  signal: AbortSignal;
}

interface LivePack {
  packId: string;
  principalId: string;
  stream: PackStream;
  queue: string[];
  isWriting: boolean;
  isGone: boolean;
}

interface PendingCall {
  pack: LivePack;
  request: PackRequest;
  settle(result: PackToolOutcome | RouterError): void;
}

/** The §2.4 default when a tool's `timeout_seconds` is 0 or less. */
export const DEFAULT_PACK_TOOL_TIMEOUT_MS = 30_000;

/**
 * Owns the external packs' live state. The registry holds the names; this holds the streams and the calls in
 * flight. Registration and its name checks are one synchronous step (registry), so racing packs cannot both win.
 */
export class ExternalPacks {
  #registry: ToolRegistry;
  #log: Logger;
  #packs = new Map<string, LivePack>();
  #pending = new Map<string, PendingCall>();
  #isShuttingDown = false;
  /** Results that matched no pending call (unknown, late, foreign principal). */
  readonly counters = { ignoredResults: 0 };

  constructor(options: { registry: ToolRegistry; log: Logger }) {
    this.#registry = options.registry;
    this.#log = options.log;
  }

  /**
   * Registers a pack owned by `principalId` on `stream`. Throws the registry's INVALID_ARGUMENT / ALREADY_EXISTS
   * with the §1.2 texts, and UNAVAILABLE `gateway shutting down` once shutdown began; nothing is registered then.
   */
  register(manifest: PackManifest, principalId: string, stream: PackStream): PackRegistration {
    if (this.#isShuttingDown) throw new GatewayError("UNAVAILABLE", "gateway shutting down");
    const tools = this.#registry.registerExternal(manifest);
    const pack: LivePack = { packId: manifest.packId, principalId, stream, queue: [], isWriting: false, isGone: false };
    this.#packs.set(pack.packId, pack);
    this.#log.info("pack registered", { pack_id: pack.packId, version: manifest.version, tools: tools.length, principal_id: principalId });
    return { packId: pack.packId, tools, disconnected: () => this.#remove(pack, undefined) };
  }

  /** Whether a pack with this id is live. */
  has(packId: string): boolean {
    return this.#packs.has(packId);
  }

  /** Number of external calls waiting for a result. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Routes one call to its pack and waits for the pack's `ToolResult`. Resolves `{outputJson}` or a tool-level
   * `{error}`; throws RouterError `duplicate request ID`, `pack disconnected`, `context deadline exceeded`
   * (the timeout, counted from now, queueing included) or `context canceled` (the caller's signal).
   */
  call(call: ExternalCall): Promise<PackToolOutcome> {
    if (this.#pending.has(call.requestId)) return Promise.reject(new RouterError("duplicate request ID"));
    const pack = this.#packs.get(call.packId);
    if (!pack) return Promise.reject(new RouterError("pack disconnected"));
    if (call.signal.aborted) return Promise.reject(new RouterError("context canceled"));
    return new Promise<PackToolOutcome>((resolve, reject) => {
      const onAbort = () => fail(new RouterError("context canceled"));
      const timer = setTimeout(() => fail(new RouterError("context deadline exceeded")), call.timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        call.signal.removeEventListener("abort", onAbort);
        if (this.#pending.get(call.requestId) === entry) this.#pending.delete(call.requestId);
      };
      const fail = (err: RouterError) => entry.settle(err);
      const entry: PendingCall = {
        pack,
        request: { toolName: call.toolName, inputJson: call.inputJson, requestId: call.requestId },
        settle: (result) => {
          if (this.#pending.get(call.requestId) !== entry) return;
          finish();
          if (result instanceof RouterError) reject(result);
          else resolve(result);
        },
      };
      this.#pending.set(call.requestId, entry);
      call.signal.addEventListener("abort", onAbort, { once: true });
      pack.queue.push(call.requestId);
      this.#pump(pack);
    });
  }

  /**
   * A pack's `ToolResult`. Completes the pending call when `requestId` is pending and was routed to a pack owned by
   * `principalId`; otherwise logs at warn, counts it and returns false. The first result wins.
   */
  deliverResult(requestId: string, principalId: string, outcome: PackToolOutcome): boolean {
    const entry = this.#pending.get(requestId);
    if (!entry || entry.pack.principalId !== principalId) {
      this.counters.ignoredResults += 1;
      this.#log.warn("tool result for no pending call ignored", { request_id: requestId, principal_id: principalId });
      return false;
    }
    entry.settle(outcome);
    return true;
  }

  /** Revocation or deletion of a principal: its packs' streams end with `end` and the packs leave. Returns how many. */
  closePrincipal(principalId: string, end: PackStreamEnd): number {
    let n = 0;
    for (const pack of [...this.#packs.values()]) {
      if (pack.principalId !== principalId) continue;
      this.#remove(pack, end);
      n += 1;
    }
    return n;
  }

  /** Gateway shutdown (§2.4): every pending call fails `pack disconnected`, then every stream ends UNAVAILABLE. */
  shutdown(): void {
    this.#isShuttingDown = true;
    for (const entry of [...this.#pending.values()]) entry.settle(new RouterError("pack disconnected"));
    for (const pack of [...this.#packs.values()]) this.#remove(pack, { code: "UNAVAILABLE", message: "gateway shutting down" });
  }

  /** Unregisters the pack, fails its calls at once, and ends its stream when the gateway is the one ending it. */
  #remove(pack: LivePack, end: PackStreamEnd | undefined): void {
    if (pack.isGone) return;
    pack.isGone = true;
    pack.queue.length = 0;
    if (this.#packs.get(pack.packId) === pack) {
      this.#packs.delete(pack.packId);
      this.#registry.unregisterExternal(pack.packId);
    }
    for (const entry of [...this.#pending.values()]) {
      if (entry.pack === pack) entry.settle(new RouterError("pack disconnected"));
    }
    if (end) {
      try {
        pack.stream.end(end);
      } catch (err) {
        this.#log.warn("ending pack stream failed", { pack_id: pack.packId, cause: err });
      }
    }
    this.#log.info("pack unregistered", { pack_id: pack.packId, reason: end?.message ?? "stream ended" });
  }

  /** Writes the pack's queued requests one at a time, each after the previous write was taken. */
  #pump(pack: LivePack): void {
    if (pack.isWriting) return;
    pack.isWriting = true;
    void (async () => {
      try {
        while (!pack.isGone) {
          const requestId = pack.queue.shift();
          if (requestId === undefined) break;
          const entry = this.#pending.get(requestId);
          // Calls that timed out or were cancelled while queued are not sent.
          if (!entry || entry.pack !== pack) continue;
          try {
            await pack.stream.send(entry.request);
          } catch (err) {
            this.#log.warn("writing to pack stream failed", { pack_id: pack.packId, request_id: requestId, cause: err });
            this.#remove(pack, undefined);
          }
        }
      } finally {
        pack.isWriting = false;
      }
    })();
  }
}
