// ABOUTME: Issue 10 figure 4: StreamEvents replay of a deep ledger to a grpc-js client, against a floor serving the
// ABOUTME: same rows of the same SQLite file with better-sqlite3 on a bare grpc-js server stream.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import * as pb from "../src/gen/coven_pb.js";
import { openDatabase } from "../src/store/database.js";
import { createLogger } from "../src/lib/logger.js";
import { readCpuMs, spawnNode } from "./child-process.js";
import { ENTRY, startGatewayProcess } from "./gateway-driver.js";
import { streamEventsMethod } from "./bench-protocol.js";

export interface ReplayRun {
  events: number;
  ms: number;
  eventsPerSecond: number;
  /** CPU ms during the replay, by process (`server`, `client`). */
  cpuMs: Record<string, number>;
}

export interface ReplayResult {
  events: number;
  gateway: ReplayRun;
  floor: ReplayRun;
}

const CONVERSATION = "bench-replay";
const eventId = (k: number) => `bench-ev-${String(k).padStart(8, "0")}`;

/** Inserts `n` message events of one conversation, alternating user and agent, in one transaction. */
function seedLedger(dbPath: string, n: number): void {
  const db = new Database(dbPath);
  try {
    const insert = db.prepare(
      "INSERT INTO ledger_events (event_id, conversation_key, thread_id, request_id, direction, author, timestamp, type, text) " +
        "VALUES (?, ?, NULL, ?, ?, ?, ?, 'message', ?)",
    );
    const start = Date.parse("2026-01-01T00:00:00.000Z");
    db.transaction(() => {
      for (let k = 0; k < n; k++) {
        const inbound = k % 2 === 0;
        insert.run(
          eventId(k),
          CONVERSATION,
          `bench-rq-${k >> 1}`,
          inbound ? "inbound_to_agent" : "outbound_from_agent",
          inbound ? "bench" : CONVERSATION,
          new Date(start + k).toISOString(),
          inbound ? `replay question ${k}` : `Echo: **replay question ${k - 1}**\n\nI received your message and am responding with some *formatted* text.`,
        );
      }
    })();
  } finally {
    db.close();
  }
}

/** Subscribes after the first event and counts `events` replayed events (in order), then cancels. */
function replayOnce(addr: string, events: number, serverPid: number): Promise<ReplayRun> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": -1 });
  const request = create(pb.StreamEventsRequestSchema, { conversationKey: CONVERSATION, sinceEventId: eventId(0) });
  return new Promise<ReplayRun>((resolve, reject) => {
    const self0 = process.cpuUsage();
    const server0 = readCpuMs(serverPid);
    const t0 = performance.now();
    let seen = 0;
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`replay: ${seen} of ${events} events within 120 s`)), 120_000);
    const call = client.makeServerStreamRequest(streamEventsMethod.path, streamEventsMethod.requestSerialize, streamEventsMethod.responseDeserialize, request);
    function finish(err?: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const ms = performance.now() - t0;
      const self = process.cpuUsage(self0);
      const cpuMs = { server: readCpuMs(serverPid) - server0, client: (self.user + self.system) / 1000 };
      call.cancel();
      client.close();
      if (err) reject(err);
      else resolve({ events, ms, eventsPerSecond: (events * 1000) / ms, cpuMs });
    }
    call.on("data", (msg: pb.ClientStreamEvent) => {
      if (msg.payload.case !== "event") return;
      seen++;
      if (msg.payload.value.id !== eventId(seen)) return finish(new Error(`replay: event ${seen} is ${msg.payload.value.id}, wanted ${eventId(seen)}`));
      if (seen === events) finish();
    });
    call.on("error", (err: Error) => finish(new Error(`replay stream: ${err.message}`)));
  });
}

/**
 * Creates the gateway's SQLite file through the real migrations (the store's own `openDatabase`), seeds `events + 1`
 * rows, starts the gateway on that file with the floor beside it, and replays everything after the first event from
 * each (a short warm-up replay first).
 */
export async function measureReplay(events: number, gatewayNodeArgs: string[]): Promise<ReplayResult> {
  const dir = mkdtempSync(join(tmpdir(), "coven-bench-replay-"));
  try {
    const dbPath = join(dir, "gateway.db");
    const store = await openDatabase({ path: dbPath, log: createLogger({ level: "error", format: "json", write: () => {} }) });
    await store.close();
    seedLedger(dbPath, events + 1);
    const gateway = await startGatewayProcess({ nodeArgs: gatewayNodeArgs, dir, keepDir: true });
    const floorProc = spawnNode("replay-floor", ENTRY.replayFloor, [gateway.dbPath]);
    try {
      const [, floorAddr] = await floorProc.waitForLine(/^replay-floor listening grpc=(\S+)$/, 20_000);
      const warm = Math.min(events, 2_000);
      await replayOnce(gateway.grpcAddr, warm, gateway.child.pid);
      await replayOnce(floorAddr!, warm, floorProc.pid);
      const floor = await replayOnce(floorAddr!, events, floorProc.pid);
      const gw = await replayOnce(gateway.grpcAddr, events, gateway.child.pid);
      return { events, gateway: gw, floor };
    } finally {
      await floorProc.stop();
      await gateway.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
