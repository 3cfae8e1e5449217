// ABOUTME: An unexpected builtin failure (its table gone under it) through the real MCP SDK client and an agent's
// ABOUTME: ExecutePackTool: -32603 `tool execution failed` / `internal error`, the cause logged at error, never sent.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/lib/logger.js";
import { startTestGateway } from "../support/gateway-harness.js";
import { covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../support/proto-client.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe("an internal builtin failure", () => {
  it("answers MCP -32603 `tool execution failed` and an agent `internal error`, logging the cause only", async () => {
    const raw: string[] = [];
    const log = createLogger({ level: "info", format: "json", write: (line) => raw.push(line), secrets: [] });
    const gw = await startTestGateway({ log });
    cleanups.push(() => gw.stop());
    const client = new Client({ name: "mcp-test", version: "0.0.1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`)));
    cleanups.push(() => client.close());
    const grpcClient = covenControlClient(gw.grpcAddr);
    cleanups.push(() => grpcClient.close());
    const agent = new ThirdPartyAgentStream(grpcClient);
    cleanups.push(() => agent.cancel());
    agent.register("tool-user", { capabilities: ["base"] });
    await agent.next("welcome");

    // An expected failure keeps its text: the caller can act on it.
    const missing = await client.callTool({ name: "todo_delete", arguments: { id: "nope" } });
    expect(missing).toEqual({ content: [{ type: "text", text: "todo not found" }], isError: true });

    await sql`DROP TABLE todos`.execute(gw.gateway.store.db);
    const failure = await client.callTool({ name: "todo_list", arguments: {} }).then(
      () => undefined,
      (err: Error & { code: number }) => ({ code: err.code, message: err.message.replace(/^MCP error -?\d+: /, "") }),
    );
    expect(failure).toEqual({ code: -32603, message: "tool execution failed" });

    agent.send({ execute_pack_tool: { request_id: "t-1", tool_name: "todo_list", input_json: "{}" } });
    const result = (await agent.next("pack_tool_result", (f: ServerFrame) => (f.pack_tool_result as { request_id: string }).request_id === "t-1"))
      .pack_tool_result as { request_id: string; error?: string; output_json?: string };
    expect(result).toMatchObject({ request_id: "t-1", error: "internal error" });

    const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    const logged = lines.filter((l) => l.msg === "builtin tool failed");
    expect(logged.map((l) => [l.level, l.tool])).toEqual([
      ["ERROR", "todo_list"],
      ["ERROR", "todo_list"],
    ]);
    expect(JSON.stringify(logged[0]!.err)).toContain("no such table");
  });
});
