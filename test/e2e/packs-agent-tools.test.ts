// ABOUTME: Whole-gateway test of the tool path for agents: Welcome.available_tools from the registry, capability-scoped,
// ABOUTME: and an ExecutePackTool round trip to a builtin with the request_id echoed (packs-mcp.md §1.3, §4).
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
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

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function gatewayWithClient(): Promise<{ gw: TestGateway; client: ReturnType<typeof covenControlClient> }> {
  const gw = await startTestGateway();
  cleanups.push(() => gw.stop());
  const client = covenControlClient(gw.grpcAddr);
  cleanups.push(() => client.close());
  return { gw, client };
}

function openAgent(client: ReturnType<typeof covenControlClient>, agentId: string, capabilities: string[]): ThirdPartyAgentStream {
  const stream = new ThirdPartyAgentStream(client);
  cleanups.push(() => stream.cancel());
  stream.register(agentId, { capabilities });
  return stream;
}

describe("agent tools through the gateway", () => {
  it("fills Welcome.available_tools from the registry, sorted and scoped by declared capabilities", async () => {
    const { client } = await gatewayWithClient();
    const withBase = openAgent(client, "agent-base", ["chat", "base"]);
    const welcome = (await withBase.next("welcome")).welcome as { available_tools: Array<Record<string, unknown>> };
    expect(welcome.available_tools.map((t) => t.name)).toEqual(BASE_TOOLS);
    const logEntry = welcome.available_tools.find((t) => t.name === "log_entry") as Record<string, unknown>;
    expect(logEntry.description).toBe("Log an activity or event");
    expect(logEntry.required_capabilities).toEqual(["base"]);
    expect(logEntry.input_schema_json).toBe(
      '{"type":"object","properties":{"message":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}},"required":["message"]}',
    );

    const without = openAgent(client, "agent-chat", ["chat"]);
    expect(((await without.next("welcome")).welcome as { available_tools: unknown[] }).available_tools).toEqual([]);
  });

  it("runs ExecutePackTool against a builtin and answers PackToolResult with the same request_id", async () => {
    const { client } = await gatewayWithClient();
    const agent = openAgent(client, "agent-base", ["base"]);
    await agent.next("welcome");
    agent.send({ execute_pack_tool: { request_id: "req-1", tool_name: "log_entry", input_json: '{"message":"hello"}' } });
    const first = (await agent.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === "req-1"))
      .pack_tool_result as { output_json: string };
    const logged = JSON.parse(first.output_json) as { id: string; status: string };
    expect(Object.keys(logged)).toEqual(["id", "status"]);
    expect(logged.status).toBe("logged");

    agent.send({ execute_pack_tool: { request_id: "req-2", tool_name: "log_search", input_json: "" } });
    const second = (await agent.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === "req-2"))
      .pack_tool_result as { output_json: string };
    const found = JSON.parse(second.output_json) as { count: number; entries: Array<{ id: string; agent_id: string; tags: unknown }> };
    expect(found.count).toBe(1);
    expect(found.entries[0]).toMatchObject({ id: logged.id, agent_id: "agent-base", tags: [] });
  });

  it("refuses a tool the agent lacks capabilities for, and an unknown tool", async () => {
    const { client } = await gatewayWithClient();
    const agent = openAgent(client, "agent-chat", ["chat"]);
    await agent.next("welcome");
    agent.send({ execute_pack_tool: { request_id: "r1", tool_name: "log_entry", input_json: '{"message":"x"}' } });
    agent.send({ execute_pack_tool: { request_id: "r2", tool_name: "no_such_tool", input_json: "{}" } });
    const byId = (id: string) => agent.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === id);
    expect(((await byId("r1")).pack_tool_result as { error: string }).error).toBe("insufficient capabilities for this tool");
    expect(((await byId("r2")).pack_tool_result as { error: string }).error).toBe("tool not found");
  });
});
