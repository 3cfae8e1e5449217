// ABOUTME: Revoking or deleting a caller ends its open SSE send streams with the exact terminal text and cancels their
// ABOUTME: requests as `principal_revoked`: on the writer (before and after start) and through the real send route.
import { createServer, request as httpRequest, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpAuthenticator } from "../../src/http/http-auth.js";
import { PrincipalStreams } from "../../src/http/principal-streams.js";
import { SseTurnWriter } from "../../src/http/sse-writer.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";
import { openSse } from "./support/sse-client.js";

const STARTED = { messageId: "m1", requestId: "r1", threadId: "t1" };
const STARTED_FRAME = 'event: started\ndata: {"message_id":"m1","request_id":"r1","thread_id":"t1"}\n\n';

let server: Server | undefined;
let h: HttpHarness | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await h?.close();
  h = undefined;
});

/** A real server whose first response is handed to the test, and the body a client reads from it. */
async function oneResponse(): Promise<{ response: ServerResponse; body: Promise<string> }> {
  let resolveResponse!: (res: ServerResponse) => void;
  const response = new Promise<ServerResponse>((resolve) => {
    resolveResponse = resolve;
  });
  server = createServer((_req, res) => resolveResponse(res));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  const body = new Promise<string>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: address.port, path: "/" }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end();
  });
  return { response: await response, body };
}

function ownedWriter(streams: PrincipalStreams, gone: Array<[string, string | undefined]>, principalId = "alice"): SseTurnWriter {
  return new SseTurnWriter({
    heartbeatIntervalMs: 60_000,
    writeStallTimeoutMs: 30_000,
    onClientGone: (requestId, reason) => gone.push([requestId, reason]),
    owner: { principalId, streams },
  });
}

describe("SseTurnWriter owned by a principal", () => {
  it("ends after its events with error 'principal has been revoked' and cancels as principal_revoked", async () => {
    const streams = new PrincipalStreams();
    const gone: Array<[string, string | undefined]> = [];
    const sink = ownedWriter(streams, gone);
    expect(streams.countOf("alice")).toBe(1);
    const { response, body } = await oneResponse();
    sink.start(response, {}, STARTED);
    await sink.deliver({ kind: "text", text: "so far" });
    expect(streams.closePrincipal("alice", "revoked")).toBe(1);
    await sink.deliver({ kind: "text", text: "late" });
    await sink.deliver({ kind: "done", fullResponse: "late", origin: "agent" });
    expect(await body).toBe(`${STARTED_FRAME}event: text\ndata: {"text":"so far"}\n\nevent: error\ndata: {"error":"principal has been revoked"}\n\n`);
    expect(gone).toEqual([["r1", "principal_revoked"]]);
    expect(streams.countOf("alice")).toBe(0);
    await sink.settled;
  });

  it("uses 'principal not found' for a deletion, and ends right after started when removed before start", async () => {
    const streams = new PrincipalStreams();
    const gone: Array<[string, string | undefined]> = [];
    const sink = ownedWriter(streams, gone);
    streams.closePrincipal("alice", "deleted");
    expect(gone).toEqual([]);
    const { response, body } = await oneResponse();
    sink.start(response, {}, STARTED);
    expect(await body).toBe(`${STARTED_FRAME}event: error\ndata: {"error":"principal not found"}\n\n`);
    expect(gone).toEqual([["r1", "principal_revoked"]]);
  });

  it("stops being tracked once it ended on its own or was discarded, so later removals touch nothing", async () => {
    const streams = new PrincipalStreams();
    const gone: Array<[string, string | undefined]> = [];
    const finished = ownedWriter(streams, gone);
    const discarded = ownedWriter(streams, gone);
    const other = ownedWriter(streams, gone, "bob");
    expect(streams.countOf("alice")).toBe(2);
    discarded.discard();
    const { response, body } = await oneResponse();
    finished.start(response, {}, STARTED);
    await finished.deliver({ kind: "done", fullResponse: "ok", origin: "agent" });
    await body;
    expect(streams.countOf("alice")).toBe(0);
    expect(streams.closePrincipal("alice", "revoked")).toBe(0);
    expect(gone).toEqual([]);
    expect(streams.countOf("bob")).toBe(1);
    other.discard();
  });
});

/** Bearer `<name>` authenticates as principal `<name>` (the real JWT checks are tested elsewhere). */
const namedCallers: HttpAuthenticator = {
  authenticate: async ({ authorization }) => {
    if (authorization === undefined) throw new GatewayError("UNAUTHENTICATED", "missing authorization header");
    return { id: authorization.replace(/^Bearer /, ""), isAnonymous: false, roles: [] };
  },
};

describe("send streams of a removed caller", () => {
  it("ends only that caller's streams; an agent with cancellation is asked to cancel with reason principal_revoked", async () => {
    const principalStreams = new PrincipalStreams();
    h = await createHttpHarness({ deps: { auth: namedCallers, principalStreams } });
    const agent = await h.connectAgent({ agentId: "a1", protocolFeatures: ["cancellation"] });
    const url = await h.listen();
    const alice = await openSse(url, "/api/send", { body: { content: "from alice", sender: "alice", agent_id: "a1" }, headers: { authorization: "Bearer alice" } });
    const aliceTurn = await agent.nextSendMessage();
    const bob = await openSse(url, "/api/send", { body: { content: "from bob", sender: "bob", agent_id: "a1" }, headers: { authorization: "Bearer bob" } });
    const bobTurn = await agent.nextSendMessage();
    await alice.waitFor((frames) => frames.some((f) => f.event === "started"));
    await bob.waitFor((frames) => frames.some((f) => f.event === "started"));
    expect(principalStreams.countOf("alice")).toBe(1);

    principalStreams.closePrincipal("alice", "revoked");
    await alice.ended;
    expect(alice.events().map((e) => [e.event, e.data])).toEqual([
      ["started", expect.objectContaining({ request_id: aliceTurn.requestId })],
      ["error", { error: "principal has been revoked" }],
    ]);
    await agent.waitFor(() => agent.frames.some((f) => f.kind === "cancel_request"));
    expect(agent.frames.filter((f) => f.kind === "cancel_request")).toEqual([
      { kind: "cancel_request", requestId: aliceTurn.requestId, reason: "principal_revoked" },
    ]);
    agent.respond(aliceTurn.requestId, { kind: "canceled", reason: "principal_revoked", origin: "agent" });

    agent.respond(bobTurn.requestId, { kind: "done", fullResponse: "hi bob", origin: "agent" });
    await bob.ended;
    expect(bob.events().map((e) => e.event)).toEqual(["started", "done"]);
    await h.conversations.drain();
    expect((await h.ledger.findByRequestId(aliceTurn.requestId)).map((r) => [r.type, r.text])).toEqual([
      ["message", "from alice"],
      ["system", "canceled: principal_revoked"],
    ]);
  });

  it("leaves the request of an agent without cancellation running detached and persisted", async () => {
    const principalStreams = new PrincipalStreams();
    h = await createHttpHarness({ deps: { auth: namedCallers, principalStreams } });
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const sse = await openSse(url, "/api/send", { body: { content: "hello", sender: "carol", agent_id: "a1" }, headers: { authorization: "Bearer carol" } });
    const turn = await agent.nextSendMessage();
    await sse.waitFor((frames) => frames.some((f) => f.event === "started"));
    principalStreams.closePrincipal("carol", "deleted");
    await sse.ended;
    expect(sse.events().map((e) => [e.event, e.data])).toEqual([
      ["started", expect.anything()],
      ["error", { error: "principal not found" }],
    ]);
    agent.respond(turn.requestId, { kind: "text", text: "still " });
    agent.respond(turn.requestId, { kind: "done", fullResponse: "still here", origin: "agent" });
    await h.conversations.drain();
    expect(agent.frames.some((f) => f.kind === "cancel_request")).toBe(false);
    expect((await h.ledger.findByRequestId(turn.requestId)).map((r) => [r.type, r.text])).toEqual([
      ["message", "hello"],
      ["message", "still "],
    ]);
  });
});
