// ABOUTME: The MCP server (packs-mcp.md §6) on the SDK's low-level Server and Streamable HTTP transport, one per session.
// ABOUTME: A fastify plugin at /mcp: credentials checked before the transport, capability-scoped tools/list and tools/call.
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, isInitializeRequest, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../lib/logger.js";
import { mcpSessionTag } from "../lib/log-redaction.js";
import type { ErrorReason } from "../lib/gateway-error.js";
import { hasCapabilities, type CapabilitySet, type ToolRegistry } from "../packs/tool-registry.js";
import { RouterError, type ToolRouter } from "../packs/tool-router.js";

/** What an MCP token minted in an agent's Welcome stands for, while that agent's connection lives. */
export interface McpTokenGrant {
  agentId: string;
  /** The principal the agent's stream authenticated as. */
  principalId: string;
  capabilities: readonly string[];
}

/** The caller of one session, as decided by the credential (§6.3). */
export interface McpIdentity {
  /** `agent_id` for builtins: the agent's id, the principal id, or `anonymous`. */
  agentId: string;
  /** The caller's principal: the agent's principal for an MCP token, the JWT's principal, or `anonymous`. */
  principalId: string;
  capabilities: CapabilitySet;
  /** The MCP token the identity rests on, re-checked on every later request; undefined otherwise. */
  mcpToken?: string;
  /** The bearer JWT the identity rests on, re-verified on every later request (expiry, revocation); undefined otherwise. */
  bearerJwt?: string;
}

/** A refusal before the transport: HTTP status and JSON-RPC message. */
export interface McpRefusal {
  status: 401 | 403;
  message: string;
  /** The refusal's stable name (`principal_revoked`, `principal_pending`) where known; metrics label by it. */
  reason?: ErrorReason;
}

export interface McpServerOptions {
  registry: ToolRegistry;
  router: ToolRouter;
  log: Logger;
  isAuthEnabled: boolean;
  resolveMcpToken(token: string): McpTokenGrant | undefined;
  /** Checks a bearer value that is not an MCP token (a JWT). Absent: such bearers are invalid tokens. */
  verifyBearer?(token: string): Promise<McpIdentity | McpRefusal>;
  /** True once the gateway is stopping: every request is answered 503 before any other check. */
  isShuttingDown?: () => boolean;
  now?: () => number;
  idleTtlMs?: number;
  maxSessions?: number;
  /** Operations' hooks (ops.md): limits, metrics and the command guard; absent, none apply. */
  ops?: McpOps;
}

/** What operations see of the MCP edge. Every hook is synchronous except the guard. */
export interface McpOps {
  /** `mcp_calls` per session before §6.7 step 1: return the retry hint in ms when refused, else 0. */
  takeCall(sessionKey: string): number;
  sessionOpened(): void;
  sessionClosed(): void;
  /** Each JSON-RPC request after authentication, by method. */
  request(method: string): void;
  /** A refused credential (401/403 before the transport). */
  authFailure(refusal: McpRefusal, hadCredential: boolean): void;
  /**
   * The guard over a call after the capability check (ops.md §3.3 source `mcp`): resolves to a refusal text
   * (`denied by guard: …`, `denied by approval`) when the call must not run, else undefined.
   */
  guard?(call: { toolName: string; packId: string; inputJson: string; requestId: string; identity: McpIdentity; signal: AbortSignal }): Promise<string | undefined>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  identity: McpIdentity;
  fingerprint: string;
  lastUsed: number;
  hangups: Hangups;
}

/** Per session: an abort controller for each request of a POST still open, fired when its client hangs up. */
type Hangups = Map<string | number, AbortController>;

/** The ids of the JSON-RPC requests in a body (one message or a batch); notifications and responses have none. */
function requestIdsOf(body: unknown): Array<string | number> {
  const ids: Array<string | number> = [];
  for (const message of Array.isArray(body) ? body : [body]) {
    if (message === null || typeof message !== "object") continue;
    const { method, id } = message as { method?: unknown; id?: unknown };
    if (typeof method === "string" && (typeof id === "string" || typeof id === "number")) ids.push(id);
  }
  return ids;
}

/**
 * Arms the hang-up signal of each request in this POST: when the HTTP connection closes before the response was
 * written, the client is gone and its calls are canceled (packs-mcp.md §6.1 "Cancellation"; the SDK's own signal only
 * fires on `notifications/cancelled`).
 */
function watchHangup(hangups: Hangups, request: FastifyRequest, reply: FastifyReply): void {
  const armed = requestIdsOf(request.body).map((id) => {
    const controller = new AbortController();
    hangups.set(id, controller);
    return [id, controller] as const;
  });
  if (armed.length === 0) return;
  reply.raw.once("close", () => {
    const gone = !reply.raw.writableFinished;
    for (const [id, controller] of armed) {
      if (hangups.get(id) === controller) hangups.delete(id);
      if (gone) controller.abort();
    }
  });
}

const IDLE_TTL_MS = 60 * 60 * 1000;
const SWEEP_MS = 60 * 1000;
const MAX_SESSIONS = 1000;
const BODY_LIMIT = 1_048_576;
const ALLOW = "POST, DELETE";

const rpcError = (code: number, message: string) => ({ jsonrpc: "2.0", error: { code, message }, id: null });

const withCode = (message: string, code: number) => Object.assign(new Error(message), { code });

/** The §3 RouterError texts as MCP JSON-RPC errors. */
const ROUTER_TO_MCP: Record<RouterError["failure"], [number, string]> = {
  "tool not found": [-32602, "tool not found"],
  "pack disconnected": [-32603, "tool pack unavailable"],
  "duplicate request ID": [-32603, "duplicate request ID"],
  "context deadline exceeded": [-32603, "tool execution timed out"],
  "context canceled": [-32603, "request canceled"],
  "internal error": [-32603, "tool execution failed"],
};

type Credential = { kind: "none" } | { kind: "invalid" } | { kind: "token"; value: string; isBearer: boolean };

function credentialOf(request: FastifyRequest): Credential {
  const url = new URL(request.raw.url ?? "/", "http://mcp.invalid");
  const rest = url.pathname.replace(/^\/mcp\/?/, "").replace(/\/$/, "");
  if (rest.includes("/")) return { kind: "invalid" };
  if (rest !== "") return { kind: "token", value: decodeURIComponent(rest), isBearer: false };
  const query = url.searchParams.get("token");
  if (query !== null && query !== "") return { kind: "token", value: query, isBearer: false };
  const header = request.headers.authorization;
  if (header?.startsWith("Bearer ")) return { kind: "token", value: header.slice("Bearer ".length), isBearer: true };
  return { kind: "none" };
}

const fingerprintOf = (credential: Credential) =>
  credential.kind === "token" ? createHash("sha256").update(credential.value).digest("hex") : "";

/** Counts the JSON-RPC requests of a body (one message or a batch); responses and notifications are not requests. */
function countRequests(ops: McpOps, body: unknown): void {
  const messages = Array.isArray(body) ? body : [body];
  for (const message of messages) {
    if (message === null || typeof message !== "object") continue;
    const { method, id } = message as { method?: unknown; id?: unknown };
    if (typeof method === "string" && id !== undefined) ops.request(method);
  }
}

/**
 * Registers `/mcp` (and `/mcp/<token>`) on a fastify app as an encapsulated plugin with its own 1 MiB JSON body
 * parser and error handler. Returns `close`, which ends every live session; the plugin also closes them on app close.
 */
export async function registerMcpServer(app: FastifyInstance, options: McpServerOptions): Promise<{ close(): Promise<void>; sessionCount(): number }> {
  const { registry, router, log } = options;
  const now = options.now ?? Date.now;
  const idleTtlMs = options.idleTtlMs ?? IDLE_TTL_MS;
  const maxSessions = options.maxSessions ?? MAX_SESSIONS;
  const sessions = new Map<string, Session>();
  const identities = new WeakMap<IncomingMessage, McpIdentity>();

  const forget = (id: string): boolean => {
    if (!sessions.delete(id)) return false;
    options.ops?.sessionClosed();
    return true;
  };
  const endSession = async (id: string) => {
    const session = sessions.get(id);
    if (!session) return;
    forget(id);
    try {
      await session.transport.close();
    } catch (err) {
      log.warn("closing MCP session failed", { mcp_session: mcpSessionTag(id), cause: err });
    }
  };

  const sweep = setInterval(() => {
    const cutoff = now() - idleTtlMs;
    for (const [id, session] of sessions) if (session.lastUsed <= cutoff) void endSession(id);
  }, SWEEP_MS);
  sweep.unref();

  const close = async () => {
    clearInterval(sweep);
    await Promise.all([...sessions.keys()].map(endSession));
  };

  async function authenticate(request: FastifyRequest): Promise<McpIdentity | McpRefusal> {
    const credential = credentialOf(request);
    if (credential.kind === "invalid") return { status: 401, message: "invalid or expired token" };
    if (credential.kind === "none") {
      if (options.isAuthEnabled) return { status: 401, message: "authentication required" };
      return { agentId: "anonymous", principalId: "anonymous", capabilities: "*" };
    }
    const grant = options.resolveMcpToken(credential.value);
    if (grant) return { agentId: grant.agentId, principalId: grant.principalId, capabilities: grant.capabilities, mcpToken: credential.value };
    if (credential.isBearer && !options.isAuthEnabled) return { agentId: "anonymous", principalId: "anonymous", capabilities: "*" };
    if (credential.isBearer && options.verifyBearer) {
      const verified = await options.verifyBearer(credential.value);
      return "status" in verified ? verified : { ...verified, bearerJwt: credential.value };
    }
    return { status: 401, message: "invalid or expired token" };
  }

  /** Whether a session's credential still holds: its agent is connected, or its JWT is unexpired and its principal live. */
  async function isCredentialLive(identity: McpIdentity): Promise<boolean> {
    if (identity.mcpToken !== undefined) return options.resolveMcpToken(identity.mcpToken) !== undefined;
    if (identity.bearerJwt !== undefined && options.verifyBearer) return !("status" in (await options.verifyBearer(identity.bearerJwt)));
    return true;
  }

  function buildServer(identity: McpIdentity, hangups: Hangups): Server {
    const server = new Server({ name: "coven-gateway", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: registry.toolsFor(identity.capabilities).map((tool) => ({
        name: tool.name,
        description: tool.description,
        inputSchema: JSON.parse(tool.inputSchemaJson) as { type: "object" },
      })),
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const wait = options.ops?.takeCall(extra.sessionId ?? identity.agentId) ?? 0;
      if (wait > 0) throw withCode("rate limit exceeded", -32000);
      const { name } = request.params;
      if (name === "") throw withCode("tool name is required", -32602);
      const tool = registry.get(name);
      if (!tool) throw withCode("tool not found", -32602);
      if (!hasCapabilities(identity.capabilities, tool.definition.requiredCapabilities)) {
        throw withCode("insufficient capabilities for this tool", -32600);
      }
      const inputJson = JSON.stringify(request.params.arguments ?? {});
      const callId = randomUUID();
      const hangup = hangups.get(extra.requestId)?.signal;
      const signal = hangup === undefined ? extra.signal : AbortSignal.any([extra.signal, hangup]);
      try {
        // Inside the try: a guard that fails unexpectedly is redacted and logged like any other failure (§6.8).
        if (options.ops?.guard) {
          const refusal = await options.ops.guard({ toolName: name, packId: tool.owner.packId, inputJson, requestId: callId, identity, signal });
          if (refusal !== undefined) return { content: [{ type: "text", text: refusal }], isError: true };
        }
        const outcome = await router.route(name, inputJson, callId, { agentId: identity.agentId }, signal);
        if ("outputJson" in outcome) return { content: [{ type: "text", text: outcome.outputJson }] };
        return { content: [{ type: "text", text: outcome.error }], isError: true };
      } catch (err) {
        if (err instanceof RouterError) {
          const [code, message] = ROUTER_TO_MCP[err.failure];
          throw withCode(message, code);
        }
        log.error("MCP tool call failed", { tool: name, cause: err, ...(extra.sessionId === undefined ? {} : { mcp_session: mcpSessionTag(extra.sessionId) }) });
        throw withCode("tool execution failed", -32603);
      }
    });
    return server;
  }

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    if (request.method !== "POST" && request.method !== "DELETE") {
      return reply.code(405).header("allow", ALLOW).send();
    }
    const identity = identities.get(request.raw) as McpIdentity;
    if (options.ops !== undefined && request.method === "POST") countRequests(options.ops, request.body);
    const sessionId = request.headers["mcp-session-id"];
    let session: Session | undefined;
    if (typeof sessionId !== "string" || sessionId === "") {
      if (request.method !== "POST" || !isInitializeRequest(request.body)) {
        return reply.code(400).send(rpcError(-32000, "Bad Request: Mcp-Session-Id header is required"));
      }
      if (sessions.size >= maxSessions) return reply.code(503).send(rpcError(-32000, "too many sessions"));
      const hangups: Hangups = new Map();
      const server = buildServer(identity, hangups);
      const fingerprint = fingerprintOf(credentialOf(request));
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (id) => {
          // The SDK writes its headers in one writeHead call, which getHeader cannot see afterwards; setting the id
          // first lets the access line name the session its initialize answer minted (ops.md §6 mcp_session).
          if (!reply.raw.headersSent) reply.raw.setHeader("mcp-session-id", id);
          sessions.set(id, { transport, server, identity, fingerprint, lastUsed: now(), hangups });
          options.ops?.sessionOpened();
        },
        onsessionclosed: (id) => {
          forget(id);
        },
      });
      await server.connect(transport);
      reply.hijack();
      await transport.handleRequest(request.raw, reply.raw, request.body);
      return reply;
    }
    session = sessions.get(sessionId);
    if (session && !(await isCredentialLive(session.identity))) {
      await endSession(sessionId);
      session = undefined;
    }
    if (!session) return reply.code(404).send(rpcError(-32001, "Session not found"));
    if (request.method === "DELETE" && session.fingerprint !== "" && fingerprintOf(credentialOf(request)) !== session.fingerprint) {
      return reply.code(403).send(rpcError(-32000, "Forbidden"));
    }
    session.lastUsed = now();
    if (request.method === "POST") watchHangup(session.hangups, request, reply);
    reply.hijack();
    await session.transport.handleRequest(request.raw, reply.raw, request.body);
    return reply;
  }

  await app.register(async (mcp) => {
    mcp.removeAllContentTypeParsers();
    mcp.addContentTypeParser("*", { parseAs: "string", bodyLimit: BODY_LIMIT }, (_request, body, done) => {
      try {
        done(null, body === "" ? undefined : JSON.parse(body as string));
      } catch (err) {
        done(Object.assign(err as Error, { statusCode: 400, mcpParseError: true }), undefined);
      }
    });
    mcp.setErrorHandler(async (error: Error & { statusCode?: number; code?: string; mcpParseError?: boolean }, _request, reply) => {
      if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return reply.code(413).send(rpcError(-32000, "request body too large"));
      if (error.mcpParseError) return reply.code(400).send(rpcError(-32700, "Parse error: Invalid JSON"));
      log.error("MCP request failed", { cause: error });
      return reply.code(500).send(rpcError(-32603, "internal error"));
    });
    mcp.addHook("onRequest", async (request, reply) => {
      if (options.isShuttingDown?.()) return reply.code(503).send(rpcError(-32000, "gateway shutting down"));
      // A later request carries its session id as the capability; the session's own credential is re-checked
      // there, so an expired or revoked one answers 404 (not 401) and the client re-initializes (§6.4).
      const sessionHeader = request.headers["mcp-session-id"];
      if (typeof sessionHeader === "string" && sessionHeader !== "") return undefined;
      const result = await authenticate(request);
      if ("status" in result) {
        options.ops?.authFailure(result, credentialOf(request).kind !== "none");
        return reply.code(result.status).header("www-authenticate", 'Bearer realm="mcp"').send(rpcError(-32600, result.message));
      }
      identities.set(request.raw, result);
      (request.raw as IncomingMessage & { auth?: unknown }).auth = {
        token: credentialOf(request).kind === "token" ? (credentialOf(request) as { value: string }).value : "",
        clientId: result.agentId,
        scopes: [],
        extra: { identity: result },
      };
      return undefined;
    });
    mcp.all("/mcp", handle);
    mcp.all("/mcp/*", handle);
    mcp.addHook("onClose", async () => close());
  });

  return { close, sessionCount: () => sessions.size };
}
