// ABOUTME: Last-known records of disconnected agents (agent-stream.md §13): kept with last-seen time and end reason,
// ABOUTME: dropped when the agent registers again, capped by maxDepartedAgents (oldest first). Real AgentManager.
import { describe, expect, it } from "vitest";
import type { AgentStreamIo, StreamEnd } from "../../src/agent/agent-frames.js";
import { AgentManager } from "../../src/agent/agent-manager.js";
import { silentLogger } from "../../src/lib/logger.js";
import { manualClock } from "../support/manual-clock.js";

function manager(maxDepartedAgents?: number) {
  const clock = manualClock();
  const agents = new AgentManager({
    serverId: "test",
    mcpEndpoint: () => "http://localhost/mcp",
    heartbeatTimeoutMs: 90_000,
    limits: { requestQueueHigh: 100, requestQueueLow: 10, cancelGraceMs: 1_000, injectionTimeoutMs: 1_000 },
    log: silentLogger,
    now: () => clock.now(),
    maxDepartedAgents,
  });
  return { agents, clock };
}

/** Opens an in-memory stream, registers `agentId`, waits for Welcome; `close` ends its input. */
async function connect(agents: AgentManager, agentId: string): Promise<{ close(): Promise<StreamEnd | undefined> }> {
  const kinds: string[] = [];
  let ended: StreamEnd | undefined;
  const io: AgentStreamIo = {
    peer: "memory",
    write: async (frame) => {
      kinds.push(frame.kind);
    },
    pause: () => {},
    resume: () => {},
    end: (status) => {
      ended ??= status;
    },
  };
  const session = agents.openSession(io, { id: "anonymous", isAnonymous: true });
  session.receive({
    kind: "register",
    agentId,
    name: `${agentId} name`,
    capabilities: [],
    protocolFeatures: [],
    metadata: { workingDirectory: `/w/${agentId}`, hostname: "h", os: "linux", workspaces: [], backend: "direct", git: undefined },
  });
  for (let i = 0; i < 1_000 && !kinds.includes("welcome"); i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
  if (!kinds.includes("welcome")) throw new Error(`${agentId} never welcomed`);
  return {
    async close() {
      session.endOfInput();
      for (let i = 0; i < 1_000 && agents.get(agentId) !== undefined; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
      return ended;
    },
  };
}

describe("departed agents", () => {
  it("remembers a disconnected agent as offline with its last-seen time and end reason, until it registers again", async () => {
    const { agents, clock } = manager();
    const first = await connect(agents, "a1");
    expect(agents.listDeparted()).toEqual([]);
    clock.advance(5_000);
    await first.close();
    const [record] = agents.listDeparted();
    expect(record).toMatchObject({ info: { agentId: "a1", name: "a1 name", state: "offline", workingDir: "/w/a1", pendingRequests: 0 }, lastSeenAt: clock.now() });
    expect(record?.endReason).toEqual(expect.any(String));
    const again = await connect(agents, "a1");
    expect(agents.listDeparted()).toEqual([]);
    await again.close();
    expect(agents.listDeparted().map((d) => d.info.agentId)).toEqual(["a1"]);
  });

  it("keeps at most maxDepartedAgents records, newest first, dropping the oldest", async () => {
    const { agents } = manager(2);
    for (const id of ["x", "y", "z"]) await (await connect(agents, id)).close();
    expect(agents.listDeparted().map((d) => d.info.agentId)).toEqual(["z", "y"]);
    const none = manager(0).agents;
    await (await connect(none, "q")).close();
    expect(none.listDeparted()).toEqual([]);
  });
});
