// ABOUTME: The StreamEvents replay floor: ClientService.StreamEvents on a bare grpc-js server, rows read from the
// ABOUTME: gateway's own SQLite file with better-sqlite3 in pages of 100 and written as ClientStreamEvent{event}.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import * as pb from "../src/gen/coven_pb.js";
import { streamEventsMethod } from "./bench-protocol.js";

const PAGE = 100;

interface Row {
  seq: number;
  event_id: string;
  conversation_key: string;
  direction: string;
  author: string;
  timestamp: string;
  type: string;
  text: string | null;
  raw_transport: string | null;
  raw_payload_ref: string | null;
  actor_principal_id: string | null;
  actor_member_id: string | null;
}

/** Usage: `node replay-floor.js <sqlite path>`. Prints `replay-floor listening grpc=<addr>`; serves until SIGTERM. */
async function main(): Promise<void> {
  const [dbPath] = process.argv.slice(2);
  if (!dbPath) throw new Error("usage: replay-floor <sqlite path>");
  const db = new Database(dbPath, { readonly: true });
  const seqOf = db.prepare("SELECT seq FROM ledger_events WHERE event_id = ? AND conversation_key = ?");
  const page = db.prepare(
    "SELECT seq, event_id, conversation_key, direction, author, timestamp, type, text, raw_transport, raw_payload_ref, actor_principal_id, " +
      "actor_member_id FROM ledger_events WHERE conversation_key = ? AND seq > ? ORDER BY seq LIMIT ?",
  );
  const toMessage = (row: Row) =>
    create(pb.ClientStreamEventSchema, {
      conversationKey: row.conversation_key,
      timestamp: row.timestamp,
      payload: {
        case: "event",
        value: create(pb.EventSchema, {
          id: row.event_id,
          conversationKey: row.conversation_key,
          direction: row.direction,
          author: row.author,
          timestamp: row.timestamp,
          type: row.type,
          ...(row.text !== null ? { text: row.text } : {}),
          ...(row.raw_transport !== null ? { rawTransport: row.raw_transport } : {}),
          ...(row.raw_payload_ref !== null ? { rawPayloadRef: row.raw_payload_ref } : {}),
          ...(row.actor_principal_id !== null ? { actorPrincipalId: row.actor_principal_id } : {}),
          ...(row.actor_member_id !== null ? { actorMemberId: row.actor_member_id } : {}),
        }),
      },
    });

  const streamEvents = (call: grpc.ServerWritableStream<pb.StreamEventsRequest, pb.ClientStreamEvent>) => {
    const key = call.request.conversationKey;
    const since = call.request.sinceEventId ?? "";
    let after = (seqOf.get(since, key) as { seq: number } | undefined)?.seq ?? 0;
    let cancelled = false;
    call.on("cancelled", () => (cancelled = true));
    const pump = () => {
      while (!cancelled) {
        const rows = page.all(key, after, PAGE) as Row[];
        if (rows.length === 0) return; // like the gateway: the stream stays open for live events
        let accepted = true;
        for (const row of rows) {
          after = row.seq;
          accepted = call.write(toMessage(row));
        }
        if (!accepted) {
          call.once("drain", pump);
          return;
        }
      }
    };
    pump();
  };

  const server = new grpc.Server();
  server.addService({ StreamEvents: streamEventsMethod } as grpc.ServiceDefinition, { StreamEvents: streamEvents } as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const stop = () => {
    server.forceShutdown();
    db.close();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  process.stdout.write(`replay-floor listening grpc=127.0.0.1:${port}\n`);
}

await main();
