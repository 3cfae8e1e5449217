// ABOUTME: The MCP server through a real gateway listener, driven by the SDK's own Client and Streamable HTTP transport.
// ABOUTME: Covers token forms, JWT bearers, 401/403, capability-scoped listing, calls, isError results and JSON-RPC errors.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { covenControlClient, ThirdPartyAgentStream } from "../support/proto-client.js";

const BASE_TOOLS = [
  "bbs_create_thread",
  "bbs_list_threads",
  "bbs_read_thread",
  "bbs_reply",
  "log_entry",
  "log_search",
  "todo_add",
  "todo_delete",
  "todo_list",
  "todo_update",
];

/** All 21 builtin tools, sorted: what the wildcard sees with no external pack registered (§5). */
const ALL_BUILTINS = [
  "admin_agent_messages",
  "admin_list_agents",
  "admin_send_message",
  "ask_user",
  "bbs_create_thread",
  "bbs_list_threads",
  "bbs_read_thread",
  "bbs_reply",
  "log_entry",
  "log_search",
  "mail_inbox",
  "mail_read",
  "mail_send",
  "note_delete",
  "note_get",
  "note_list",
  "note_set",
  "todo_add",
  "todo_delete",
  "todo_list",
  "todo_update",
];

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function gateway(auth = false): Promise<TestGateway> {
  const gw = auth ? await startAuthGateway() : await startTestGateway();
  cleanups.push(() => gw.stop());
  return gw;
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: "mcp-test", version: "0.0.1" });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return client;
}

/** Registers an agent over gRPC and returns its MCP token (the agent stays connected until `disconnect`). */
async function agentToken(gw: TestGateway, agentId: string, capabilities: string[]): Promise<{ token: string; disconnect(): Promise<void> }> {
  const grpcClient = covenControlClient(gw.grpcAddr);
  cleanups.push(() => grpcClient.close());
  const stream = new ThirdPartyAgentStream(grpcClient);
  cleanups.push(() => stream.cancel());
  stream.register(agentId, { capabilities });
  const welcome = (await stream.next("welcome")).welcome as { mcp_token: string };
  return { token: welcome.mcp_token, disconnect: async () => void (await stream.close()) };
}

const rawPost = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

describe("MCP without auth", () => {
  it("gives an anonymous session the wildcard and advertises the server", async () => {
    const gw = await gateway();
    const client = await connect(`${gw.httpUrl}/mcp`);
    expect(client.getServerVersion()).toEqual({ name: "coven-gateway", version: "1.0.0" });
    expect(client.getServerCapabilities()).toEqual({ tools: {} });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(ALL_BUILTINS);
    expect(tools.find((t) => t.name === "bbs_reply")?.inputSchema).toEqual({
      type: "object",
      properties: { thread_id: { type: "string" }, content: { type: "string" } },
      required: ["thread_id", "content"],
    });
  });

  it.each(["path", "query", "bearer"])("scopes tools/list by the agent's capabilities with a %s MCP token", async (form) => {
    const gw = await gateway();
    const withBase = await agentToken(gw, "agent-base", ["base"]);
    const chatOnly = await agentToken(gw, "agent-chat", ["chat"]);
    const open = (token: string) =>
      form === "path"
        ? connect(`${gw.httpUrl}/mcp/${token}`)
        : form === "query"
          ? connect(`${gw.httpUrl}/mcp?token=${token}`)
          : connect(`${gw.httpUrl}/mcp`, { authorization: `Bearer ${token}` });
    expect((await (await open(withBase.token)).listTools()).tools.map((t) => t.name)).toEqual(BASE_TOOLS);
    expect((await (await open(chatOnly.token)).listTools()).tools).toEqual([]);
  });

  it("calls a builtin as the token's agent, returning key-sorted output text", async () => {
    const gw = await gateway();
    const agent = await agentToken(gw, "agent-base", ["base"]);
    const client = await connect(`${gw.httpUrl}/mcp/${agent.token}`);
    const created = await client.callTool({ name: "todo_add", arguments: { description: "write tests" } });
    const { id } = JSON.parse((created.content as Array<{ text: string }>)[0]!.text) as { id: string };
    const listed = await client.callTool({ name: "todo_list" });
    expect(listed.isError).toBeUndefined();
    const text = (listed.content as Array<{ type: string; text: string }>)[0]!;
    expect(text.type).toBe("text");
    const todos = JSON.parse(text.text) as { count: number; todos: Array<Record<string, unknown>> };
    expect(todos.count).toBe(1);
    expect(Object.keys(todos.todos[0]!)).toEqual([
      "agent_id",
      "created_at",
      "description",
      "due_date",
      "id",
      "notes",
      "priority",
      "status",
      "updated_at",
    ]);
    expect(todos.todos[0]).toMatchObject({ agent_id: "agent-base", id, due_date: null, notes: "", priority: "medium", status: "pending" });
  });

  it("answers a tool-level failure as an isError result", async () => {
    const gw = await gateway();
    const client = await connect(`${gw.httpUrl}/mcp`);
    const result = await client.callTool({ name: "todo_add", arguments: { description: "x", priority: "urgent" } });
    expect(result).toEqual({ content: [{ type: "text", text: 'invalid priority "urgent": must be low, medium, or high' }], isError: true });
  });

  it("answers unknown, unnamed and out-of-scope tools with the §6.8 JSON-RPC errors", async () => {
    const gw = await gateway();
    const chatOnly = await agentToken(gw, "agent-chat", ["chat"]);
    const client = await connect(`${gw.httpUrl}/mcp/${chatOnly.token}`);
    await expect(client.callTool({ name: "no_such_tool" })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining("tool not found") });
    await expect(client.callTool({ name: "" })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining("tool name is required") });
    await expect(client.callTool({ name: "log_entry", arguments: { message: "m" } })).rejects.toMatchObject({
      code: -32600,
      message: expect.stringContaining("insufficient capabilities for this tool"),
    });
    const init = await rawPost(`${gw.httpUrl}/mcp`, INITIALIZE);
    const sessionId = init.headers.get("mcp-session-id") as string;
    const call = await rawPost(
      `${gw.httpUrl}/mcp`,
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "no_such_tool" } },
      { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" },
    );
    expect(call.status).toBe(200);
    expect(await call.json()).toEqual({ jsonrpc: "2.0", id: 2, error: { code: -32602, message: "tool not found" } });
  });

  it("answers GET with 405, missing and unknown sessions with 400 and 404, bad JSON with -32700", async () => {
    const gw = await gateway();
    const get = await fetch(`${gw.httpUrl}/mcp`, { headers: { accept: "text/event-stream" } });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST, DELETE");
    const noSession = await rawPost(`${gw.httpUrl}/mcp`, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(noSession.status).toBe(400);
    expect(await noSession.json()).toEqual({ jsonrpc: "2.0", error: { code: -32000, message: "Bad Request: Mcp-Session-Id header is required" }, id: null });
    const unknown = await rawPost(`${gw.httpUrl}/mcp`, { jsonrpc: "2.0", id: 1, method: "tools/list" }, { "mcp-session-id": "nope" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null });
    const bad = await rawPost(`${gw.httpUrl}/mcp`, "{not json");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ jsonrpc: "2.0", error: { code: -32700, message: "Parse error: Invalid JSON" }, id: null });
  });

  it("ends a token session when its agent disconnects (404), and refuses the dead token (401)", async () => {
    const gw = await gateway();
    const agent = await agentToken(gw, "agent-base", ["base"]);
    const init = await rawPost(`${gw.httpUrl}/mcp/${agent.token}`, INITIALIZE);
    expect(init.status).toBe(200);
    const sessionId = init.headers.get("mcp-session-id") as string;
    await agent.disconnect();
    const after = await rawPost(`${gw.httpUrl}/mcp`, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { "mcp-session-id": sessionId });
    expect(after.status).toBe(404);
    const again = await rawPost(`${gw.httpUrl}/mcp/${agent.token}`, INITIALIZE);
    expect(again.status).toBe(401);
    expect(again.headers.get("www-authenticate")).toBe('Bearer realm="mcp"');
    expect(await again.json()).toEqual({ jsonrpc: "2.0", error: { code: -32600, message: "invalid or expired token" }, id: null });
  });

  it("refuses DELETE of a token session by another credential with 403", async () => {
    const gw = await gateway();
    const owner = await agentToken(gw, "agent-a", ["base"]);
    const other = await agentToken(gw, "agent-b", ["base"]);
    const init = await rawPost(`${gw.httpUrl}/mcp/${owner.token}`, INITIALIZE);
    const sessionId = init.headers.get("mcp-session-id") as string;
    const denied = await fetch(`${gw.httpUrl}/mcp/${other.token}`, { method: "DELETE", headers: { "mcp-session-id": sessionId } });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ jsonrpc: "2.0", error: { code: -32000, message: "Forbidden" }, id: null });
    const allowed = await fetch(`${gw.httpUrl}/mcp/${owner.token}`, { method: "DELETE", headers: { "mcp-session-id": sessionId } });
    expect(allowed.status).toBe(200);
  });
});

describe("MCP with auth on", () => {
  it("refuses anonymous callers, bad tokens and multi-segment paths with 401", async () => {
    const gw = await gateway(true);
    const none = await rawPost(`${gw.httpUrl}/mcp`, INITIALIZE);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="mcp"');
    expect(await none.json()).toEqual({ jsonrpc: "2.0", error: { code: -32600, message: "authentication required" }, id: null });
    for (const [url, headers] of [
      [`${gw.httpUrl}/mcp`, { authorization: "Bearer not-a-jwt" }],
      [`${gw.httpUrl}/mcp/unknown-token`, {}],
      [`${gw.httpUrl}/mcp/a/b`, {}],
    ] as const) {
      const res = await rawPost(url, INITIALIZE, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ jsonrpc: "2.0", error: { code: -32600, message: "invalid or expired token" }, id: null });
    }
    await expect(connect(`${gw.httpUrl}/mcp`)).rejects.toThrow();
  });

  it("gives an admin JWT the wildcard and a plain principal only tools without requirements", async () => {
    const gw = await gateway(true);
    const admin = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const plain = await seedPrincipal(gw.gateway.store.db);
    const adminClient = await connect(`${gw.httpUrl}/mcp`, { authorization: `Bearer ${await tokenFor(admin)}` });
    expect((await adminClient.listTools()).tools.map((t) => t.name)).toEqual(ALL_BUILTINS);
    const logged = await adminClient.callTool({ name: "log_entry", arguments: { message: "hi" } });
    expect(logged.isError).toBeUndefined();
    const search = await adminClient.callTool({ name: "log_search" });
    const entries = JSON.parse((search.content as Array<{ text: string }>)[0]!.text) as { entries: Array<{ agent_id: string }> };
    expect(entries.entries.map((e) => e.agent_id)).toEqual([admin]);
    const plainClient = await connect(`${gw.httpUrl}/mcp`, { authorization: `Bearer ${await tokenFor(plain)}` });
    expect((await plainClient.listTools()).tools).toEqual([]);
  });

  it("answers a pending principal with 403", async () => {
    const gw = await gateway(true);
    const pending = await seedPrincipal(gw.gateway.store.db, { status: "pending" });
    const res = await rawPost(`${gw.httpUrl}/mcp`, INITIALIZE, { authorization: `Bearer ${await tokenFor(pending)}` });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ jsonrpc: "2.0", error: { code: -32600, message: "principal status is pending" }, id: null });
  });
});
