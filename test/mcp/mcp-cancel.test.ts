// ABOUTME: MCP request cancellation end to end (packs-mcp.md §2.4 "Caller gone", §6.1 "Cancellation"): the SDK Client's
// ABOUTME: AbortSignal (notifications/cancelled) and an HTTP hang-up each cancel the pending external tool call.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { parseExposition, valueOf } from "../support/prom-text.js";
import { packServiceClient, ThirdPartyPack } from "../support/proto-client.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(): Promise<{ gw: TestGateway; client: Client; transport: StreamableHTTPClientTransport; pack: ThirdPartyPack }> {
  const gw = await startTestGateway();
  cleanups.push(() => gw.stop());
  const packs = packServiceClient(gw.grpcAddr);
  cleanups.push(() => packs.close());
  const pack = new ThirdPartyPack(packs, { pack_id: "slowpack", tools: [{ name: "crawl" }, { name: "quick" }] } as never);
  cleanups.push(() => pack.cancel());
  await pack.headers;
  // `quick` answers at once; `crawl` never does (its default timeout is 30 s, far beyond these tests).
  pack.call.on("data", (request: { request_id: string; tool_name: string }) => {
    if (request.tool_name === "quick") void pack.result(request.request_id, { output_json: '{"ok":true}' });
  });
  const client = new Client({ name: "mcp-cancel-test", version: "0.0.1" });
  const transport = new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`));
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { gw, client, transport, pack };
}

const pending = (gw: TestGateway) => gw.gateway.domain.packs.externals.pendingCount;
const canceledCalls = async (gw: TestGateway) =>
  valueOf(parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text()), "coven_pack_calls_total", { pack: "slowpack", outcome: "error" });

describe("MCP request cancellation", () => {
  it("the SDK client's AbortSignal cancels the pending pack call at once; the session keeps working", async () => {
    const { gw, client, pack } = await setup();
    const controller = new AbortController();
    const call = client.callTool({ name: "crawl", arguments: {} }, undefined, { signal: controller.signal });
    await pack.received(1);
    expect(pending(gw)).toBe(1);
    controller.abort(new Error("user stop"));
    await expect(call).rejects.toThrow("user stop");
    // notifications/cancelled reaches the gateway, which fails the call with `context canceled` and drops its entry.
    await expect.poll(() => pending(gw)).toBe(0);
    expect(await canceledCalls(gw)).toBe(1);
    // A late result for the canceled call matches nothing and is ignored (Empty, no error).
    expect((await pack.result(pack.requests[0]!.request_id, { output_json: '{"late":true}' })).ok).toBe(true);
    expect(await client.callTool({ name: "quick", arguments: {} })).toEqual({ content: [{ type: "text", text: '{"ok":true}' }] });
  });

  it("an HTTP client that hangs up mid-call cancels the pending pack call", async () => {
    const { gw, client, transport, pack } = await setup();
    const hangup = new AbortController();
    const posted = fetch(`${gw.httpUrl}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": transport.sessionId!,
        "mcp-protocol-version": transport.protocolVersion ?? "2025-06-18",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: "raw-1", method: "tools/call", params: { name: "crawl", arguments: {} } }),
      signal: hangup.signal,
    });
    posted.catch(() => undefined);
    await pack.received(1);
    expect(pending(gw)).toBe(1);
    hangup.abort();
    await expect.poll(() => pending(gw)).toBe(0);
    expect(await canceledCalls(gw)).toBe(1);
    expect(await client.callTool({ name: "quick", arguments: {} })).toEqual({ content: [{ type: "text", text: '{"ok":true}' }] });
  });
});
