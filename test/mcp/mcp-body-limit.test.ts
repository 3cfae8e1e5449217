// ABOUTME: POST /mcp body limit over a real listener (packs-mcp.md §6.8): a body over 1 MiB is refused 413 with the
// ABOUTME: exact JSON-RPC error, with or without Content-Length, inside a live SDK session; 1 MiB itself is accepted.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway } from "../support/gateway-harness.js";

const MIB = 1024 * 1024;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A tools/list request padded with spaces to exactly `size` bytes (whitespace keeps it valid JSON). */
function padded(size: number): string {
  const json = JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list", params: {} });
  return json + " ".repeat(size - Buffer.byteLength(json));
}

describe("MCP request body limit", () => {
  it("answers 413 -32000 `request body too large` over 1 MiB and serves a body of exactly 1 MiB", async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    const transport = new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`));
    const client = new Client({ name: "mcp-limit-test", version: "0.0.1" });
    await client.connect(transport);
    cleanups.push(() => client.close());
    const headers = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": transport.sessionId as string,
      "mcp-protocol-version": transport.protocolVersion as string,
    };
    const tooLarge = { jsonrpc: "2.0", error: { code: -32000, message: "request body too large" }, id: null };

    const over = await fetch(`${gw.httpUrl}/mcp`, { method: "POST", headers, body: padded(MIB + 1) });
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual(tooLarge);

    // Without Content-Length (chunked), the limit is enforced while reading.
    const bytes = new TextEncoder().encode(padded(MIB + 1));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
        controller.close();
      },
    });
    const chunked = await fetch(`${gw.httpUrl}/mcp`, { method: "POST", headers, body: stream, duplex: "half" } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toEqual(tooLarge);

    const exact = await fetch(`${gw.httpUrl}/mcp`, { method: "POST", headers, body: padded(MIB) });
    expect(exact.status).toBe(200);
    const text = await exact.text();
    expect(text).toContain('"id":7');
    expect(text).toContain('"tools"');
    // The session survived the refusals.
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  });
});
