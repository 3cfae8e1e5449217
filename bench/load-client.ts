// ABOUTME: The load generator child process: C concurrent keep-alive clients POSTing /api/send to N agents, every
// ABOUTME: reply checked; by duration (closed loop) or by turn count at a fixed rate. Latencies go to a binary file.
import { writeFileSync } from "node:fs";
import { createSseClient, type SseClient } from "./sse-client.js";

/** What the parent asks for, passed as one JSON argument. */
export interface LoadPlan {
  url: string;
  agentPrefix: string;
  agentCount: number;
  concurrency: number;
  /** Closed loop for this long before measuring (not recorded). */
  warmupMs: number;
  /** Closed loop: every client sends its next turn as soon as the last one is done, for this long. */
  durationMs?: number;
  /** Open loop: exactly this many turns, turn k started no earlier than k / rate seconds after the start. */
  turns?: number;
  rate?: number;
  /** Where the measured latencies (ms, Float64, turn order) are written. */
  latencyFile: string;
  /** Prefix of every message text, so rows of a run can be told apart in SQLite. */
  tag: string;
}

/** The line printed at the end: `phase end <json>`. */
export interface LoadResult {
  turns: number;
  errors: number;
  firstError?: string;
  ms: number;
  /** CPU of this process during the measured phase, ms. */
  cpuMs: number;
}

const TURN_TIMEOUT_MS = 60_000;

async function turn(client: SseClient, agentId: string, content: string): Promise<void> {
  let text = "";
  let terminal = "";
  await client.post("/api/send", { agent_id: agentId, sender: "bench", content }, (frame) => {
    if (frame.event === "text") text += (JSON.parse(frame.data) as { text: string }).text;
    else if (frame.event !== "started") terminal = frame.event;
  }, TURN_TIMEOUT_MS);
  if (terminal !== "done" || !text.includes(`**${content}**`)) throw new Error(`bad reply (${terminal}): ${text.slice(0, 200)}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? "") as LoadPlan;
  const clients = Array.from({ length: plan.concurrency }, () => createSseClient(plan.url));
  const agent = (k: number) => `${plan.agentPrefix}-${k % plan.agentCount}`;
  let errors = 0;
  let firstError: string | undefined;
  const fail = (err: unknown) => {
    errors++;
    firstError ??= (err as Error).message;
  };

  // Warm-up: closed loop, not recorded.
  let seq = 0;
  const warmEnd = performance.now() + plan.warmupMs;
  await Promise.all(
    clients.map(async (client, w) => {
      while (performance.now() < warmEnd) await turn(client, agent(w), `${plan.tag}-warm ${seq++}`).catch(fail);
    }),
  );
  errors = 0;
  firstError = undefined;

  const latencies: number[] = [];
  process.stdout.write("phase measure\n");
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (plan.durationMs !== undefined) {
    const end = t0 + plan.durationMs;
    let k = 0;
    await Promise.all(
      clients.map(async (client, w) => {
        while (performance.now() < end) {
          const started = performance.now();
          try {
            await turn(client, agent(w), `${plan.tag} ${k++}`);
            latencies.push(performance.now() - started);
          } catch (err) {
            fail(err);
          }
        }
      }),
    );
  } else {
    const turns = plan.turns ?? 0;
    const interval = 1000 / (plan.rate ?? Infinity);
    const out = new Float64Array(turns).fill(Number.NaN);
    let next = 0;
    await Promise.all(
      clients.map(async (client) => {
        while (next < turns) {
          const k = next++;
          const due = t0 + k * interval;
          const now = performance.now();
          if (due > now + 1) await sleep(due - now);
          const started = performance.now();
          try {
            await turn(client, agent(k), `${plan.tag} ${k}`);
            out[k] = performance.now() - started;
          } catch (err) {
            fail(err);
          }
        }
      }),
    );
    for (const v of out) if (!Number.isNaN(v)) latencies.push(v);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  for (const client of clients) client.close();
  writeFileSync(plan.latencyFile, new Uint8Array(Float64Array.from(latencies).buffer));
  const result: LoadResult = { turns: latencies.length, errors, ms, cpuMs: (cpu.user + cpu.system) / 1000, ...(firstError ? { firstError } : {}) };
  process.stdout.write(`phase end ${JSON.stringify(result)}\n`);
}

await main();
