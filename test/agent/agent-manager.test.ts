// ABOUTME: The agent layer on its own: AgentManager and AgentSession of the real domain, driven through openSession
// ABOUTME: with an in-memory stream, the manual clock and fake timers (heartbeat deadline, duplicates, grace, last_seen).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AgentEvent } from "../../src/agent/agent-events.js";
import type { AgentStreamIo, InboundFrame, OutboundFrame, StreamEnd } from "../../src/agent/agent-frames.js";
import type { AgentManager } from "../../src/agent/agent-manager.js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { seedPrincipal } from "../support/identity-fixtures.js";
import { manualClock, type ManualClock } from "../support/manual-clock.js";
import { startTestDomain, type TestDomain } from "../support/test-domain.js";

const HEARTBEAT_MS = 90_000;
const GRACE_MS = 5_000;

/** One agent stream held in memory: records what the gateway writes and how it ended, feeds frames in. */
class MemoryStream {
  readonly frames: OutboundFrame[] = [];
  ended: StreamEnd | undefined;
  readonly #session: ReturnType<AgentManager["openSession"]>;

  constructor(agents: AgentManager, principal: { id: string; isAnonymous: boolean } = { id: "anonymous", isAnonymous: true }) {
    const io: AgentStreamIo = {
      peer: "memory",
      write: async (frame) => {
        if (this.ended) throw new Error("stream ended");
        this.frames.push(frame);
      },
      pause: () => {},
      resume: () => {},
      end: (status) => {
        this.ended ??= status;
      },
    };
    this.#session = agents.openSession(io, principal);
  }

  register(agentId: string): void {
    this.send({
      kind: "register",
      agentId,
      name: agentId,
      capabilities: [],
      protocolFeatures: [],
      metadata: { workingDirectory: "", hostname: "h", os: "linux", workspaces: [], backend: "", git: undefined },
    });
  }

  send(frame: InboundFrame): void {
    this.#session.receive(frame);
  }

  heartbeat(): void {
    this.send({ kind: "heartbeat", timestampMs: 0n });
  }

  respond(requestId: string, event: AgentEvent): void {
    this.send({ kind: "response", requestId, event });
  }

  closeInput(): void {
    this.#session.endOfInput();
  }

  kinds(): string[] {
    return this.frames.map((f) => f.kind);
  }
}

/** Lets promise chains and I/O callbacks (SQLite through Kysely) run until `check` holds; no timers involved. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 5_000; i += 1) {
    if (await check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

let clock: ManualClock;
let harness: TestDomain;
let agents: AgentManager;

/** Moves the manual clock and the fake timers together, as real time would. */
function tick(ms: number): void {
  clock.advance(ms);
  vi.advanceTimersByTime(ms);
}

async function welcomed(agentId: string, principal?: { id: string; isAnonymous: boolean }): Promise<MemoryStream> {
  const stream = new MemoryStream(agents, principal);
  stream.register(agentId);
  await until(() => stream.kinds().includes("welcome"), `${agentId} welcomed`);
  return stream;
}

beforeEach(async () => {
  clock = manualClock();
  harness = await startTestDomain({ clock, heartbeatTimeoutMs: HEARTBEAT_MS, limits: { shutdownTimeoutMs: GRACE_MS } });
  agents = harness.domain.agents;
  // Only the timers the agent layer sets are faked; setImmediate and I/O stay real so SQLite and promises run.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});

afterEach(async () => {
  vi.useRealTimers();
  await harness.stop();
});

describe("heartbeat deadline", () => {
  it("ends the stream UNAVAILABLE 'heartbeat timeout' exactly when the deadline passes after the last frame", async () => {
    const stream = await welcomed("hb");
    const handle = await agents.dispatch({ agentId: "hb", requestId: "r", threadId: "t", sender: "s", content: "x" });
    stream.heartbeat();
    tick(60_000);
    // Any frame counts as liveness once heartbeats started: the deadline moves to 60 s + 90 s.
    stream.respond("r", { kind: "text", text: "still here" });
    tick(HEARTBEAT_MS - 1);
    expect(stream.ended).toBeUndefined();
    expect(agents.get("hb")).toBeDefined();
    tick(1);
    expect(stream.ended).toEqual({ code: "UNAVAILABLE", message: "heartbeat timeout", closeReason: "heartbeat_timeout" });
    expect(agents.get("hb")).toBeUndefined();
    expect(await collect(handle.events)).toEqual([
      { kind: "text", text: "still here" },
      { kind: "error", error: "agent disconnected", origin: "gateway" },
    ]);
  });

  it("never times out an agent that has not sent a heartbeat yet", async () => {
    const stream = await welcomed("quiet");
    tick(10 * HEARTBEAT_MS);
    expect(stream.ended).toBeUndefined();
    expect(agents.get("quiet")).toBeDefined();
  });
});

describe("duplicate agent ids", () => {
  it("refuses a second stream with the id of a live one, suggesting the first free suffix, and frees the id on disconnect", async () => {
    const first = await welcomed("dup");
    await welcomed("dup-1");
    const second = new MemoryStream(agents);
    second.register("dup");
    await until(() => second.ended !== undefined, "duplicate refused");
    expect(second.frames).toEqual([{ kind: "registration_error", reason: "agent dup already registered", suggestedId: "dup-2" }]);
    expect(second.ended).toEqual({ code: "ALREADY_EXISTS", message: "agent dup already registered" });
    expect(first.ended).toBeUndefined();
    expect(agents.get("dup")).toBeDefined();

    first.closeInput();
    expect(agents.get("dup")).toBeUndefined();
    await welcomed("dup");
  });

  it("counts a stream still registering (its Welcome not yet written) as holding the id", async () => {
    const first = new MemoryStream(agents);
    const second = new MemoryStream(agents);
    // Both registrations arrive before the first one's secrets lookup (a store read) has finished.
    first.register("racing");
    second.register("racing");
    await until(() => first.kinds().includes("welcome") && second.ended !== undefined, "race settled");
    expect(second.ended?.code).toBe("ALREADY_EXISTS");
    expect(first.ended).toBeUndefined();
  });
});

describe("shutdown grace", () => {
  it("waits for pending requests up to the grace period, and a request finished in time keeps the agent's reply", async () => {
    const stream = await welcomed("graceful");
    const handle = await agents.dispatch({ agentId: "graceful", requestId: "r", threadId: "t", sender: "s", content: "x" });
    let stopped = false;
    const shutdown = agents.shutdown(GRACE_MS).then(() => (stopped = true));
    await until(() => stream.kinds().includes("shutdown"), "shutdown written");
    tick(GRACE_MS - 1);
    await until(() => true, "settle");
    expect(stopped).toBe(false);
    stream.respond("r", { kind: "done", fullResponse: "finished", origin: "agent" });
    await shutdown;
    expect(await collect(handle.events)).toEqual([{ kind: "done", fullResponse: "finished", origin: "agent" }]);
    expect(stream.ended).toEqual({ code: "UNAVAILABLE", message: "gateway shutting down", closeReason: "shutdown" });
  });

  it("ends what is still pending when the grace period runs out with 'gateway shutting down'", async () => {
    const stream = await welcomed("slow");
    const handle = await agents.dispatch({ agentId: "slow", requestId: "r", threadId: "t", sender: "s", content: "x" });
    let stopped = false;
    const shutdown = agents.shutdown(GRACE_MS).then(() => (stopped = true));
    tick(GRACE_MS - 1);
    await until(() => true, "settle");
    expect(stopped).toBe(false);
    expect(stream.ended).toBeUndefined();
    tick(1);
    await shutdown;
    expect(await collect(handle.events)).toEqual([{ kind: "error", error: "gateway shutting down", origin: "gateway" }]);
    expect(stream.ended).toEqual({ code: "UNAVAILABLE", message: "gateway shutting down", closeReason: "shutdown" });
  });

  it("ends a request with 'gateway shutting down' when its agent leaves during the grace period", async () => {
    const stream = await welcomed("leaver");
    const handle = await agents.dispatch({ agentId: "leaver", requestId: "r", threadId: "t", sender: "s", content: "x" });
    const shutdown = agents.shutdown(GRACE_MS);
    await until(() => stream.kinds().includes("shutdown"), "shutdown written");
    stream.closeInput();
    await shutdown;
    expect(await collect(handle.events)).toEqual([{ kind: "error", error: "gateway shutting down", origin: "gateway" }]);
  });

  it("refuses streams and dispatches once shutdown began", async () => {
    await welcomed("present");
    const shutdown = agents.shutdown(GRACE_MS);
    const late = new MemoryStream(agents);
    expect(late.ended).toEqual({ code: "UNAVAILABLE", message: "gateway shutting down", closeReason: "shutdown" });
    await expect(
      agents.dispatch({ agentId: "present", requestId: "r", threadId: "t", sender: "s", content: "x" }),
    ).rejects.toMatchObject({ code: "UNAVAILABLE", message: "gateway shutting down" });
    await shutdown;
  });
});

describe("presence of a principal with several streams", () => {
  it("moves last_seen when a further stream registers or ends, and goes offline after the last", async () => {
    const principalId = await seedPrincipal(harness.store.db, { type: "agent" });
    const principals = createPrincipalRepository(harness.store.db);
    const principal = { id: principalId, isAnonymous: false };
    const seen = async () => {
      await harness.domain.identity.presence.flush();
      return principals.findById(principalId);
    };
    const start = clock.ms;
    const iso = (offsetMs: number) => new Date(start + offsetMs).toISOString();

    const first = await welcomed("p-one", principal);
    expect(await seen()).toMatchObject({ status: "online", lastSeen: iso(0) });
    // Well inside the once-a-minute frame throttle: only the stream bookkeeping can move last_seen.
    tick(10_000);
    const second = await welcomed("p-two", principal);
    expect((await seen())?.lastSeen).toBe(iso(10_000));
    tick(10_000);
    first.closeInput();
    expect(await seen()).toMatchObject({ status: "online", lastSeen: iso(20_000) });
    tick(10_000);
    second.closeInput();
    expect(await seen()).toMatchObject({ status: "offline", lastSeen: iso(30_000) });
  });
});
