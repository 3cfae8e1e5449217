// ABOUTME: The WebSocket edge on the fastify app: GET /ws (upgrade checks of ws.md §2.1, then one WsConnection
// ABOUTME: per socket), GET /ws/schema.json, and the connection set that revocation and shutdown act on.
import type { Socket } from "node:net";
import websocket from "@fastify/websocket";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { WsDeps } from "./ws-deps.js";
import { WsConnection, type WsConnectionSet, type WsCounters } from "./ws-connection.js";
import { ADMIN_SESSION_COOKIE, type WsCredentials } from "./ws-identity.js";
import { WS_SCHEMA_ETAG, WS_SCHEMA_JSON, compileValidators } from "./ws-schemas.js";

export const WS_SUBPROTOCOL = "coven.v1";

/** The mounted edge: what the composition root calls on revocation, logout and stop. */
export interface WsServer {
  readonly counters: WsCounters;
  /** Open sockets (handshaking or established). */
  readonly connectionCount: number;
  /** Ends the connections of a revoked or deleted principal (§9). */
  closePrincipal(principalId: string, reason: "revoked" | "deleted"): void;
  /** A web admin session ended (logout): its connections close 4401 `session ended`. */
  closeAdminSession(sessionId: string): void;
  /** Stop began: `shutdown` to every established connection, 1012 once its runs ended (§9). */
  beginShutdown(): void;
  /** Maintenance changed (ops.md §5): a `maintenance` event to every established connection. */
  announceMaintenance(state: { enabled: boolean; message: string; since: string | null }): void;
  /** End of the graceful phase: close what is left with 1012 and destroy it shortly after. */
  closeAll(): Promise<void>;
}

function sendJsonError(reply: FastifyReply, status: number, error: string, headers: Record<string, string> = {}): FastifyReply {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.code(status).header("content-type", "application/json").send(`${JSON.stringify({ error })}\n`);
}

function hasAdminCookie(cookie: string | undefined): boolean {
  if (cookie === undefined) return false;
  return cookie.split(";").some((part) => part.trim().startsWith(`${ADMIN_SESSION_COOKIE}=`));
}

/** Mounts the edge on `app` (before it listens). */
export async function mountWsServer(app: FastifyInstance, deps: WsDeps): Promise<WsServer> {
  const validators = compileValidators();
  const connections = new Set<WsConnection>();
  const counters: WsCounters = { subscriberOverflows: 0, writeWaits: 0, writeStalls: 0 };
  const set: WsConnectionSet = {
    countFor: (identityId) => {
      let n = 0;
      for (const conn of connections) if (conn.isEstablished && conn.identity?.id === identityId) n += 1;
      return n;
    },
    added: (conn) => void connections.add(conn),
    removed: (conn) => void connections.delete(conn),
  };

  await app.register(websocket, {
    options: {
      maxPayload: deps.limits.wsMaxPayloadBytes,
      perMessageDeflate: false,
      handleProtocols: (protocols: Set<string>) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    },
    // Shutdown is ours (beginShutdown/closeAll); the plugin's own preClose would close every socket 1001.
    preClose: (done: () => void) => done(),
  });
  // A refusal sent by a root hook that runs before the plugin's (shutdown 503, lockout or `http_per_address` 429)
  // leaves the request unmarked as an upgrade, so the plugin does not destroy its socket; left open, that socket
  // would hold the listener's close forever.
  app.addHook("onResponse", async (request) => {
    const isUpgrade = request.headers.upgrade !== undefined && /\bupgrade\b/i.test(request.headers.connection ?? "");
    if (isUpgrade && request.ws !== true) request.raw.socket.destroy();
  });

  const upgradeChecks = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!request.ws) return undefined;
    if (deps.lifecycle.isShuttingDown()) return sendJsonError(reply, 503, "gateway shutting down");
    const origin = request.headers.origin;
    const publicOrigin = deps.publicOrigin();
    const cookie = request.headers.cookie;
    if (hasAdminCookie(cookie) && origin !== publicOrigin) return sendJsonError(reply, 403, "origin not allowed");
    if (!deps.resolver.isAuthEnabled && origin !== undefined && origin !== publicOrigin) {
      return sendJsonError(reply, 403, "origin not allowed");
    }
    if (connections.size >= deps.limits.wsMaxConnections) return sendJsonError(reply, 503, "too many connections");
    return undefined;
  };

  await app.register(async (scope) => {
    scope.route({
      method: "GET",
      url: "/ws",
      onRequest: upgradeChecks,
      handler: async (_request, reply) => sendJsonError(reply, 426, "websocket upgrade required", { upgrade: "websocket" }),
      wsHandler: (socket, request) => {
        const credentials: WsCredentials = {
          ip: request.ip,
          authorization: request.headers.authorization,
          adminCookie: hasAdminCookie(request.headers.cookie) ? request.headers.cookie : undefined,
        };
        new WsConnection({ deps, socket, raw: request.raw.socket as Socket, credentials, validators, set, counters });
      },
    });
    scope.route({
      method: ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
      url: "/ws",
      handler: async (_request, reply) => reply.code(405).send(),
    });
    scope.route({
      method: "GET",
      url: "/ws/schema.json",
      handler: async (request, reply) => {
        reply.header("etag", WS_SCHEMA_ETAG).header("cache-control", "no-cache");
        if (request.headers["if-none-match"] === WS_SCHEMA_ETAG) return reply.code(304).send();
        return reply.code(200).header("content-type", "application/json").send(WS_SCHEMA_JSON);
      },
    });
  });

  return {
    counters,
    get connectionCount() {
      return connections.size;
    },
    closePrincipal(principalId, reason) {
      for (const conn of [...connections]) {
        if (conn.identity?.principalId === principalId && conn.identity.kind === "principal") {
          conn.endForRemovedPrincipal(reason).catch((cause: unknown) => deps.log.error("ws revocation close failed", { cause }));
        }
      }
    },
    closeAdminSession(sessionId) {
      for (const conn of [...connections]) if (conn.identity?.sessionKey === sessionId) conn.close(4401, "session ended");
    },
    beginShutdown() {
      for (const conn of [...connections]) conn.beginShutdown();
    },
    announceMaintenance(state) {
      for (const conn of [...connections]) if (conn.isEstablished) conn.writeEvent("maintenance", { ...state });
    },
    async closeAll() {
      const open = [...connections];
      for (const conn of open) conn.close(1012, "gateway shutting down");
      await Promise.all(open.map((conn) => conn.closed));
    },
  };
}
