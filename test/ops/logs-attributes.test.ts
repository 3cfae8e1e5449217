// ABOUTME: The per-edge attributes of ops.md §6 logs through a real gateway with the JSON logger: conn_id on a WS
// ABOUTME: connection's lines and its close line, the hashed mcp_session, principal_id on gRPC lines, content cut at 200.
import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import { connectAgent, createCleanups, openClient, sendMessage, SseSession } from "../e2e/support/conversation-e2e.js";
import { startLoggedGateway } from "../support/logged-gateway.js";
import { seedPrincipal, tokenFor, withAuth } from "../support/identity-fixtures.js";
import { WsClient, WsSchema } from "../ws/support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

const loggedGateway = (options?: Parameters<typeof startLoggedGateway>[1]) => startLoggedGateway(cleanups, options);

describe("WebSocket lines", () => {
  it("carry the connection's conn_id, and its end is one info line with the close code and duration", async () => {
    const { gw, lines } = await loggedGateway();
    const schema = await WsSchema.fetch(gw.httpUrl);
    const first = await WsClient.open(gw.httpUrl, schema);
    cleanups.add(() => first.close());
    const second = await WsClient.open(gw.httpUrl, schema);
    cleanups.add(() => second.close());
    const firstId = ((await first.hello()).server as { conn_id: string }).conn_id;
    const secondId = ((await second.hello()).server as { conn_id: string }).conn_id;
    expect(firstId).not.toBe(secondId);

    await expect.poll(() => lines().filter((l) => l.msg === "ws connection established").map((l) => l.conn_id).sort()).toEqual([firstId, secondId].sort());
    first.close();
    await expect.poll(() => lines().filter((l) => l.msg === "ws connection closed").length).toBe(1);
    const closed = lines().find((l) => l.msg === "ws connection closed")!;
    expect(closed).toMatchObject({ level: "INFO", conn_id: firstId, code: expect.any(Number) });
    expect(typeof closed.duration_ms).toBe("number");
    // Only the closed connection logged its end; the other stays open and unlogged until it closes.
    expect(lines().filter((l) => l.conn_id === secondId).map((l) => l.msg)).not.toContain("ws connection closed");
  });
});

describe("MCP lines", () => {
  it("name the session by the first 12 hex chars of its SHA-256 and never log the session id itself", async () => {
    const { gw, raw, lines } = await loggedGateway();
    const transport = new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`));
    const client = new Client({ name: "log-test", version: "0.0.1" });
    await client.connect(transport);
    cleanups.add(() => client.close());
    await client.listTools();
    await client.callTool({ name: "todo_list" });
    const sessionId = transport.sessionId ?? "";
    expect(sessionId).not.toBe("");
    const tag = createHash("sha256").update(sessionId).digest("hex").slice(0, 12);

    // initialize (its answer minted the id), the initialized notification, tools/list and tools/call.
    await expect.poll(() => lines().filter((l) => l.msg === "http request" && l.route === "/mcp").length).toBeGreaterThanOrEqual(4);
    const mcpLines = lines().filter((l) => l.msg === "http request" && l.route === "/mcp");
    expect(mcpLines.map((l) => l.mcp_session)).toEqual(mcpLines.map(() => tag));
    expect(raw.join("\n")).not.toContain(sessionId);
  });
});

describe("gRPC lines with auth on", () => {
  it("carry the caller's principal_id once the call authenticated, and none when it did not", async () => {
    const { gw, lines } = await loggedGateway({ mutate: withAuth });
    const principalId = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${await tokenFor(principalId)}`);
    const client = openClient(cleanups, gw.grpcAddr);
    // No agent is connected: the call authenticates, then fails on its target.
    await expect(sendMessage(client, "nobody", "hi", "k-1", metadata)).rejects.toThrow();
    await expect(sendMessage(client, "nobody", "hi", "k-2")).rejects.toThrow(/UNAUTHENTICATED|missing authorization/);

    const sends = () => lines().filter((l) => l.msg === "rpc" && String(l.rpc).endsWith("/SendMessage"));
    await expect.poll(() => sends().length).toBe(2);
    const [authed, anonymous] = sends();
    expect(authed).toMatchObject({ principal_id: principalId });
    expect(authed!.status).not.toBe("UNAUTHENTICATED");
    expect(anonymous).toMatchObject({ status: "UNAUTHENTICATED" });
    expect(Object.keys(anonymous!)).not.toContain("principal_id");
  });
});

describe("conversation content", () => {
  it("appears only at debug, cut to 200 characters", async () => {
    const { gw, raw, lines } = await loggedGateway();
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "content-agent");
    const send = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "content-agent", sender: "alice", content: "hello" });
    const turn = (await send.next("started")).request_id as string;
    const input = JSON.stringify({ command: "x".repeat(500) });
    agent.respond(turn, { tool_use: { id: "u1", name: "Bash", input_json: input } });
    agent.respond(turn, { done: { full_response: "ok" } });
    await send.ended();

    await expect.poll(() => lines().filter((l) => l.msg === "tool use").length).toBe(1);
    const line = lines().find((l) => l.msg === "tool use")!;
    expect(line).toMatchObject({ level: "DEBUG", request_id: turn, tool_name: "Bash", content: input.slice(0, 200) });
    expect(raw.join("\n")).not.toContain(input.slice(0, 201));
    // No line above debug carries content.
    expect(lines().filter((l) => l.level !== "DEBUG" && "content" in l)).toEqual([]);
  });
});

describe("refusal warn lines", () => {
  it("a send refused by maintenance logs one warn line a minute, later refusals at debug", async () => {
    const { gw, lines } = await loggedGateway();
    const on = await fetch(`${gw.httpUrl}/api/admin/maintenance`, { method: "POST", body: JSON.stringify({ enabled: true, message: "upgrading" }) });
    expect(on.status).toBe(200);
    const send = () => fetch(`${gw.httpUrl}/api/send`, { method: "POST", body: JSON.stringify({ agent_id: "a", sender: "s", content: "hi" }) });
    expect((await send()).status).toBe(503);
    expect((await send()).status).toBe(503);
    const refused = lines().filter((l) => l.msg === "send refused: maintenance");
    expect(refused.map((l) => l.level)).toEqual(["WARN", "DEBUG"]);
    expect(refused[0]).toMatchObject({ message: "upgrading" });
  });
});
