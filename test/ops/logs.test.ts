// ABOUTME: Logs of ops.md §6 through a real gateway with the JSON logger: access-line shape, the X-Request-Id round
// ABOUTME: trip, a turn's lines carrying request_id/agent_id/principal_id on each ingress, and redaction of every secret.
import { afterEach, describe, expect, it } from "vitest";
import { REDACTED, redactText } from "../../src/lib/log-redaction.js";
import { connectAgent, createCleanups, openClient, sendMessage, SseSession } from "../e2e/support/conversation-e2e.js";
import { startLoggedGateway } from "../support/logged-gateway.js";
import { seedPrincipal, TEST_JWT_SECRET, tokenFor, withAuth } from "../support/identity-fixtures.js";
import { WsClient, WsSchema } from "../ws/support/ws-client.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

const loggedGateway = (options?: Parameters<typeof startLoggedGateway>[1]) => startLoggedGateway(cleanups, options);
const RFC3339_MS_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("access lines and X-Request-Id", () => {
  it("echoes a well-formed X-Request-Id, replaces a malformed or missing one with a UUIDv4, and logs it as http_id", async () => {
    const { gw, lines } = await loggedGateway();
    const given = await fetch(`${gw.httpUrl}/health`, { headers: { "x-request-id": "trace:abc.123-XYZ_9" } });
    expect(given.headers.get("x-request-id")).toBe("trace:abc.123-XYZ_9");
    const malformed = await fetch(`${gw.httpUrl}/api/agents`, { headers: { "x-request-id": "has space" } });
    const generated = malformed.headers.get("x-request-id") ?? "";
    expect(generated).toMatch(UUID_V4);
    const tooLong = await fetch(`${gw.httpUrl}/health`, { headers: { "x-request-id": "a".repeat(129) } });
    expect(tooLong.headers.get("x-request-id")).toMatch(UUID_V4);
    const none = await fetch(`${gw.httpUrl}/nowhere`);
    expect(none.headers.get("x-request-id")).toMatch(UUID_V4);
    expect(none.headers.get("x-request-id")).not.toBe(generated);

    await expect.poll(() => lines().filter((l) => l.msg === "http request").length).toBe(4);
    const access = lines().filter((l) => l.msg === "http request");
    for (const line of access) {
      expect(line.time).toMatch(RFC3339_MS_UTC);
      expect(line.level).toBe("INFO");
      expect(typeof line.duration_ms).toBe("number");
      expect(Object.keys(line)).not.toContain("body");
    }
    expect(access[0]).toMatchObject({ http_id: "trace:abc.123-XYZ_9", method: "GET", route: "/health", status: 200 });
    expect(access[1]).toMatchObject({ http_id: generated, route: "/api/agents", status: 200, principal_id: "anonymous" });
    expect(access[3]).toMatchObject({ route: "", url: "/nowhere", status: 404 });
  });
});

describe("gRPC access lines", () => {
  it("logs one rpc line per call at info with rpc, status and duration_ms, not one per stream message", async () => {
    const { gw, lines } = await loggedGateway();
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "rpclog");
    const client = openClient(cleanups, gw.grpcAddr);
    await sendMessage(client, "rpclog", "first", "k-1");
    agent.respond((await agent.message(1)).request_id as string, { done: { full_response: "ok" } });
    await sendMessage(client, "rpclog", "second", "k-2");
    agent.respond((await agent.message(2)).request_id as string, { done: { full_response: "ok" } });
    await expect(sendMessage(client, "rpclog", "no key", "")).rejects.toThrow();
    const rpcLines = () => lines().filter((l) => l.msg === "rpc");
    await expect.poll(() => rpcLines().filter((l) => String(l.rpc).endsWith("/SendMessage")).length).toBe(3);
    const sends = rpcLines().filter((l) => String(l.rpc).endsWith("/SendMessage"));
    expect(sends.map((l) => l.status)).toEqual(["OK", "OK", "INVALID_ARGUMENT"]);
    for (const line of sends) {
      expect(line).toMatchObject({ level: "INFO", rpc: expect.stringMatching(/^\/[\w.]+\/SendMessage$/) });
      expect(typeof line.duration_ms).toBe("number");
    }
    // The agent stream carried several messages each way but is one call: no line until it ends, then exactly one.
    expect(rpcLines().filter((l) => String(l.rpc).endsWith("/AgentStream"))).toEqual([]);
    agent.close();
    await expect.poll(() => rpcLines().filter((l) => String(l.rpc).endsWith("/AgentStream")).length).toBe(1);
  });
});

describe("a turn's lines", () => {
  it("carry request_id, agent_id and principal_id from acceptance to the terminal event, over HTTP and gRPC", async () => {
    const { gw, lines } = await loggedGateway();
    const { agent } = await connectAgent(cleanups, gw.grpcAddr, "logged");
    const send = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "logged", sender: "alice", content: "hi" });
    const started = await send.next("started");
    agent.respond(started.request_id as string, { done: { full_response: "ok" } });
    await send.ended();
    await sendMessage(openClient(cleanups, gw.grpcAddr), "logged", "over grpc", "k-1");
    const grpcTurn = (await agent.message(2)).request_id as string;
    agent.respond(grpcTurn, { error: "boom" });

    const turnLines = (requestId: string) => lines().filter((l) => l.request_id === requestId).map((l) => l.msg);
    await expect.poll(() => turnLines(grpcTurn)).toEqual(["turn accepted", "turn ended"]);
    expect(turnLines(started.request_id as string)).toEqual(["turn accepted", "turn ended"]);
    const ended = lines().filter((l) => l.msg === "turn ended");
    expect(ended[0]).toMatchObject({ level: "INFO", request_id: started.request_id, agent_id: "logged", principal_id: "anonymous", ingress: "http", outcome: "done" });
    expect(ended[1]).toMatchObject({ request_id: grpcTurn, agent_id: "logged", principal_id: "anonymous", ingress: "grpc", outcome: "error" });
  });
});

describe("redaction", () => {
  it("redacts each credential shape in any string", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    expect(redactText(jwt, [])).toBe(REDACTED);
    expect(redactText(`failed for Bearer opaque-token-123`, [])).toBe(`failed for Bearer ${REDACTED}`);
    expect(redactText("/mcp/6f1c2b?x=1", [])).toBe(`/mcp/${REDACTED}?x=1`);
    expect(redactText("/ws?token=abc&x=1", [])).toBe(`/ws?token=${REDACTED}&x=1`);
    expect(redactText("/invite/inv-tok", [])).toBe(`/invite/${REDACTED}`);
    expect(redactText("/api/link/status/ABCD-1234", [])).toBe(`/api/link/status/${REDACTED}`);
    expect(redactText("secret is s3cr3t-value!", ["s3cr3t-value"])).toBe(`secret is ${REDACTED}!`);
    // Near misses stay as they are.
    expect(redactText("/mcp", [])).toBe("/mcp");
    expect(redactText("tokens=5 eyJ-not-a-jwt", [])).toBe("tokens=5 eyJ-not-a-jwt");
  });

  it("keeps every secret of an e2e run with auth on out of the whole log", async () => {
    const metricsToken = "metrics-token-0123456789";
    const { gw, raw, lines } = await loggedGateway({
      mutate: (c) => withAuth({ ...c, metrics: { ...c.metrics, token: metricsToken } }),
      secrets: [TEST_JWT_SECRET, metricsToken],
    });
    const principal = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const jwt = await tokenFor(principal);
    const auth = { authorization: `Bearer ${jwt}` };
    expect((await fetch(`${gw.httpUrl}/api/agents`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${gw.httpUrl}/api/agents`, { headers: { authorization: "Bearer not-a-real-token-xyz" } })).status).toBe(401);
    expect((await fetch(`${gw.httpUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).status).toBe(200);
    const mcpToken = "0b4e2f7a-mcp-capability-token";
    await fetch(`${gw.httpUrl}/mcp/${mcpToken}`, { method: "POST", body: "{}" });
    await fetch(`${gw.httpUrl}/invite/invite-capability-token`);
    await fetch(`${gw.httpUrl}/api/link/status/LINKCODE99`);
    await fetch(`${gw.httpUrl}/ws?token=${jwt}`);
    const client = await WsClient.open(gw.httpUrl, await WsSchema.fetch(gw.httpUrl), { headers: auth });
    cleanups.add(() => client.close());
    expect((await client.hello()).type).toBe("hello-ok");
    const bad = await WsClient.open(gw.httpUrl, await WsSchema.fetch(gw.httpUrl));
    cleanups.add(() => bad.close());
    await bad.hello({ auth: { token: "hello-token-not-valid" } });
    await gw.stop();

    const all = raw.join("\n");
    expect(lines().filter((l) => l.msg === "http request").length).toBeGreaterThanOrEqual(7);
    for (const secret of [jwt, TEST_JWT_SECRET, metricsToken, mcpToken, "invite-capability-token", "LINKCODE99", "not-a-real-token-xyz"]) {
      expect(all.includes(secret), secret).toBe(false);
    }
    expect(all).toContain(`"url":"/mcp/${REDACTED}"`);
    expect(all).toContain(`"url":"/ws?token=${REDACTED}"`);
  });
});
