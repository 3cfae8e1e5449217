// ABOUTME: Issue 10 figure 3: thousands of idle grpc-js agents (several processes, one connection each) on one
// ABOUTME: gateway: RSS per agent, idle CPU, GET /api/agents time, then all killed at once: RSS and fds after.
import { countFds, openFilesLimit, readCpuMs, readRssKib, type ChildHandle } from "./child-process.js";
import { httpGet, startAgentFleet, startGatewayProcess, waitForAgents } from "./gateway-driver.js";

export interface ScaleSettings {
  agents: number;
  perProcess: number;
  idleMs: number;
  /** How long RSS settles (five readings over this span) before each reading: baseline, connected, disconnected. */
  settleMs: number;
  gatewayNodeArgs: string[];
}

export interface ScaleResult {
  agents: number;
  wanted: number;
  processes: number;
  /** Set when the open-files limit made the count smaller than wanted. */
  limitNote?: string;
  baselineKib: number;
  connectedKib: number;
  perAgentKib: number;
  connectMs: number;
  idleMs: number;
  idleCores: number;
  listMs: number[];
  listBytes: number;
  disconnectMs: number;
  afterDisconnectKib: number;
  fdsBefore: number;
  fdsConnected: number;
  fdsAfter: number;
}

/** File descriptors the gateway needs besides one per agent connection (SQLite, listeners, pipes, epoll, …). */
const FD_RESERVE = 256;
const LIST_CALLS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function settledRss(pid: number, spanMs: number): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(spanMs / 5);
    values.push(readRssKib(pid));
  }
  values.sort((a, b) => a - b);
  return values[2]!;
}

/** The agent count that fits under the hard open-files limit, and a note when that is fewer than wanted. */
export function fittingAgents(wanted: number, hardLimit: number): { agents: number; note?: string } {
  const fits = Math.max(1, hardLimit - FD_RESERVE);
  if (wanted <= fits) return { agents: wanted };
  return {
    agents: fits,
    note:
      `${wanted.toLocaleString("en-US")} agents do not fit: the gateway holds one fd per agent connection and the hard ` +
      `open-files limit is ${hardLimit.toLocaleString("en-US")}, so ${fits.toLocaleString("en-US")} agents were measured ` +
      `(${FD_RESERVE} fds kept for the gateway's own files); per-agent figures are per measured agent.`,
  };
}

export async function measureScale(s: ScaleSettings): Promise<ScaleResult> {
  const { hard } = openFilesLimit();
  const { agents, note } = fittingAgents(s.agents, hard);
  const gateway = await startGatewayProcess({ nodeArgs: s.gatewayNodeArgs, fdLimit: Math.min(hard, 1 << 20) });
  const pid = gateway.child.pid;
  const fleets: ChildHandle[] = [];
  try {
    await httpGet(`${gateway.httpUrl}/health`);
    const baselineKib = await settledRss(pid, s.settleMs);
    const fdsBefore = countFds(pid);
    const processes = Math.ceil(agents / s.perProcess);
    const t0 = performance.now();
    const starting = Array.from({ length: processes }, (_, p) => {
      const count = Math.min(s.perProcess, agents - p * s.perProcess);
      return startAgentFleet(gateway.grpcAddr, `idle${p}`, count, 300_000).then((fleet) => fleets.push(fleet));
    });
    await Promise.all(starting);
    await waitForAgents(gateway.httpUrl, agents, 60_000);
    const connectMs = performance.now() - t0;
    const connectedKib = await settledRss(pid, s.settleMs);
    const fdsConnected = countFds(pid);

    const cpu0 = readCpuMs(pid);
    const i0 = performance.now();
    await sleep(s.idleMs);
    const idleCores = (readCpuMs(pid) - cpu0) / (performance.now() - i0);

    const listMs: number[] = [];
    let listBytes = 0;
    for (let i = 0; i < LIST_CALLS; i++) {
      const l0 = performance.now();
      const { status, body } = await httpGet(`${gateway.httpUrl}/api/agents`);
      listMs.push(performance.now() - l0);
      if (status !== 200) throw new Error(`GET /api/agents: ${status} ${body.slice(0, 200)}`);
      listBytes = body.length;
    }

    const d0 = performance.now();
    await Promise.all(fleets.splice(0).map((fleet) => fleet.kill()));
    await waitForAgents(gateway.httpUrl, 0, 120_000);
    const disconnectMs = performance.now() - d0;
    const afterDisconnectKib = await settledRss(pid, s.settleMs);
    const fdsAfter = countFds(pid);
    return {
      agents,
      wanted: s.agents,
      processes,
      ...(note !== undefined ? { limitNote: note } : {}),
      baselineKib,
      connectedKib,
      perAgentKib: (connectedKib - baselineKib) / agents,
      connectMs,
      idleMs: s.idleMs,
      idleCores,
      listMs,
      listBytes,
      disconnectMs,
      afterDisconnectKib,
      fdsBefore,
      fdsConnected,
      fdsAfter,
    };
  } finally {
    await Promise.all(fleets.map((fleet) => fleet.kill()));
    await gateway.stop();
  }
}
