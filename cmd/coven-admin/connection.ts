// ABOUTME: Where coven-admin connects and which credentials it sends (cli.md §3.1), resolved once for every command.
// ABOUTME: Also renders refused or failed calls as one clear line plus a hint that names the source that was used.
import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import path from "node:path";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import * as v1 from "../../src/gen/coven/gateway/v1/gateway_pb.js";
import * as pb from "../../src/gen/coven_pb.js";
import { resolveHomeDir } from "../../src/config/paths.js";
import { grpcFailure } from "../fake-agent/grpc-status.js";

/** Where the gRPC address and the token came from, so a refusal can say which setting to fix. */
export interface Connection {
  addr: string;
  addrSource: "COVEN_GATEWAY_GRPC" | "COVEN_GATEWAY_HOST" | "default";
  token: string | undefined;
  /** `COVEN_TOKEN`, the token file's path, or undefined when no token is sent. */
  tokenSource: string | undefined;
  tokenFile: string;
}

/** The token file coven-admin reads: `$XDG_CONFIG_HOME/coven/token`, else `~/.config/coven/token` (cli.md §1.1). */
export function tokenFilePath(env: NodeJS.ProcessEnv): string {
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, "coven", "token");
  const home = resolveHomeDir(env);
  return home ? path.join(home, ".config", "coven", "token") : path.resolve("token");
}

/** Resolves address and token from the environment and the token file. Never throws: a missing token is allowed. */
export function resolveConnection(env: NodeJS.ProcessEnv): Connection {
  const tokenFile = tokenFilePath(env);
  let addr = "localhost:50051";
  let addrSource: Connection["addrSource"] = "default";
  if (env.COVEN_GATEWAY_GRPC) {
    addr = env.COVEN_GATEWAY_GRPC;
    addrSource = "COVEN_GATEWAY_GRPC";
  } else if (env.COVEN_GATEWAY_HOST) {
    addr = `${env.COVEN_GATEWAY_HOST}:50051`;
    addrSource = "COVEN_GATEWAY_HOST";
  }
  const fromEnv = env.COVEN_TOKEN?.trim();
  if (fromEnv) return { addr, addrSource, token: fromEnv, tokenSource: "COVEN_TOKEN", tokenFile };
  let fromFile: string | undefined;
  try {
    fromFile = readFileSync(tokenFile, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (fromFile) return { addr, addrSource, token: fromFile, tokenSource: tokenFile, tokenFile };
  return { addr, addrSource, token: undefined, tokenSource: undefined, tokenFile };
}

/** The typed clients of one connection; `close` ends the HTTP/2 session so the process can exit. */
export interface Clients {
  client: Client<typeof pb.ClientService>;
  admin: Client<typeof pb.AdminService>;
  /** The gateway's own `coven.gateway.v1.GatewayService` (maintenance). */
  gateway: Client<typeof v1.GatewayService>;
  close(): void;
}

/** Builds h2c connect clients that send `authorization: Bearer <token>` when a token was resolved. */
export function createClients(conn: Connection): Clients {
  const baseUrl = `http://${conn.addr}`;
  const session = new Http2SessionManager(baseUrl);
  const auth: Interceptor = (next) => (req) => {
    if (conn.token !== undefined) req.header.set("authorization", `Bearer ${conn.token}`);
    return next(req);
  };
  const transport = createGrpcTransport({ baseUrl, sessionManager: session, interceptors: [auth] });
  return {
    client: createClient(pb.ClientService, transport),
    admin: createClient(pb.AdminService, transport),
    gateway: createClient(v1.GatewayService, transport),
    close: () => session.abort(),
  };
}

/** Thrown when the gateway cannot be reached; the message is `connecting to <addr>: <why>`. */
export class UnreachableError extends Error {}

/** Waits up to `timeoutMs` for a TCP connection to the gRPC address; throws UnreachableError otherwise. */
export function waitReachable(conn: Connection, timeoutMs = 5_000): Promise<void> {
  const colon = conn.addr.lastIndexOf(":");
  const host = conn.addr.slice(0, colon).replace(/^\[|\]$/g, "") || "localhost";
  const port = Number(conn.addr.slice(colon + 1));
  return new Promise((resolve, reject) => {
    if (colon < 0 || !Number.isInteger(port)) {
      reject(new UnreachableError(`connecting to ${conn.addr}: invalid address`));
      return;
    }
    const socket = tcpConnect({ host, port });
    const timer = setTimeout(() => fail("timeout"), timeoutMs);
    function fail(why: string): void {
      clearTimeout(timer);
      socket.destroy();
      reject(new UnreachableError(`connecting to ${conn.addr}: ${why}`));
    }
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once("error", (err: NodeJS.ErrnoException) =>
      fail(err.code === "ECONNREFUSED" ? "connection refused" : err.code === "ENOTFOUND" ? "host not found" : err.message),
    );
  });
}

/** Says where the address came from, for hints. */
export function describeAddrSource(conn: Connection): string {
  return conn.addrSource === "default" ? "the default address" : `$${conn.addrSource}`;
}

/** Says which token was sent, for refusals. */
export function describeTokenSource(conn: Connection): string {
  if (conn.tokenSource === undefined) return `no token sent: COVEN_TOKEN is unset and ${conn.tokenFile} does not exist`;
  if (conn.tokenSource === "COVEN_TOKEN") return "token from $COVEN_TOKEN";
  return `token from ${conn.tokenSource}`;
}

export const AUTH_HINT = "hint: set COVEN_TOKEN or run 'coven-gateway bootstrap --name <you>'";

/**
 * The stderr lines (without `Error: `) for a failed call `rpc`: `<RPC>: <STATUS>: <detail>` (cli.md §1.2), with the
 * source of the token on a refusal and a hint line for the common fixes.
 */
export function describeFailure(rpc: string, err: unknown, conn: Connection): { message: string; hint?: string } {
  if (err instanceof UnreachableError) {
    return { message: err.message, hint: `hint: is the gateway running? (address from ${describeAddrSource(conn)}; set COVEN_GATEWAY_GRPC or COVEN_GATEWAY_HOST)` };
  }
  const { status, detail } = grpcFailure(err);
  const message = `${rpc}: ${status}: ${detail}`;
  switch (status) {
    case "UNAUTHENTICATED":
      return { message: `${message} (${describeTokenSource(conn)})`, hint: AUTH_HINT };
    case "PERMISSION_DENIED":
      return { message: `${message} (${describeTokenSource(conn)})`, hint: "hint: this command needs a principal with the admin or owner role" };
    case "UNAVAILABLE":
      return { message, hint: `hint: is the gateway running at ${conn.addr}? (address from ${describeAddrSource(conn)})` };
    case "NOT_FOUND":
      return rpc === "SendMessage" ? { message, hint: "hint: check the agent id; 'coven-admin agents' lists registered agents" } : { message };
    default:
      return { message };
  }
}
