// ABOUTME: Runs one coven-admin command body against the gateway: resolve the connection, check it is reachable,
// ABOUTME: build the clients, and always close the HTTP/2 session afterwards so the process can exit.
import type { CliIo } from "../coven-gateway/cli-io.js";
import { createClients, resolveConnection, waitReachable, type Clients, type Connection } from "./connection.js";
import { failCall } from "./output.js";

/** Calls `body` with live clients; an unreachable gateway prints its line and hint and gives exit code 1. */
export async function withGateway(io: CliIo, body: (clients: Clients, conn: Connection) => Promise<number>): Promise<number> {
  const conn = resolveConnection(io.env);
  try {
    await waitReachable(conn);
  } catch (err) {
    return failCall(io, "connect", err, conn);
  }
  const clients = createClients(conn);
  try {
    return await body(clients, conn);
  } finally {
    clients.close();
  }
}
