// ABOUTME: MCP tools/list and tools/call against an external pack registered over PackService (packs-mcp.md §6.6-§6.8):
// ABOUTME: live listing, success and isError results, and the pack-disconnected and timeout JSON-RPC errors.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { packServiceClient, ThirdPartyPack } from "../support/proto-client.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(): Promise<{ gw: TestGateway; client: Client; openPack: (id: string, tools: object[]) => Promise<ThirdPartyPack> }> {
  const gw = await startTestGateway();
  cleanups.push(() => gw.stop());
  const packs = packServiceClient(gw.grpcAddr);
  cleanups.push(() => packs.close());
  const client = new Client({ name: "mcp-test", version: "0.0.1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`)));
  cleanups.push(() => client.close());
  const openPack = async (id: string, tools: object[]) => {
    const pack = new ThirdPartyPack(packs, { pack_id: id, tools } as never);
    cleanups.push(() => pack.cancel());
    await pack.headers;
    return pack;
  };
  return { gw, client, openPack };
}

const rpcError = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (err) {
    // The SDK client wraps the wire message as `MCP error <code>: <message>`.
    return { code: (err as { code: number }).code, message: (err as Error).message.replace(/^MCP error -?\d+: /, "") };
  }
  throw new Error("expected a JSON-RPC error");
};

describe("MCP over external packs", () => {
  it("lists a pack registered after initialize, and calls it with success and isError results", async () => {
    const { client, openPack } = await setup();
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("shout");
    const pack = await openPack("loud", [
      { name: "shout", description: "Shout", input_schema_json: '{"properties":{"text":{"type":"string"}}}' },
    ]);
    const listed = (await client.listTools()).tools.find((t) => t.name === "shout");
    expect(listed).toEqual({ name: "shout", description: "Shout", inputSchema: { type: "object", properties: { text: { type: "string" } } } });
    pack.call.on("data", (request: { request_id: string; input_json: string }) => {
      const { text } = JSON.parse(request.input_json) as { text: string };
      void pack.result(request.request_id, text === "" ? { error: "text is required" } : { output_json: JSON.stringify({ text: text.toUpperCase() }) });
    });
    expect(await client.callTool({ name: "shout", arguments: { text: "hi" } })).toEqual({ content: [{ type: "text", text: '{"text":"HI"}' }] });
    expect(await client.callTool({ name: "shout", arguments: { text: "" } })).toEqual({
      content: [{ type: "text", text: "text is required" }],
      isError: true,
    });
    expect(pack.requests.every((r) => /^[0-9a-f-]{36}$/.test(r.request_id))).toBe(true);
  });

  it("answers -32603 `tool pack unavailable` when the pack disconnects mid-call", async () => {
    const { client, openPack } = await setup();
    const pack = await openPack("flaky", [{ name: "hang" }]);
    const call = rpcError(client.callTool({ name: "hang", arguments: {} }));
    await pack.received(1);
    pack.cancel();
    expect(await call).toEqual({ code: -32603, message: "tool pack unavailable" });
  });

  it("answers -32603 `tool execution timed out` at the tool's timeout", async () => {
    const { client, openPack } = await setup();
    await openPack("slow", [{ name: "nap", timeout_seconds: 1 }]);
    expect(await rpcError(client.callTool({ name: "nap", arguments: {} }))).toEqual({ code: -32603, message: "tool execution timed out" });
  });
});
