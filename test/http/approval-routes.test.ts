// ABOUTME: POST /api/tools/approve and GET /api/tools/pending over the real domain: approvals raised by an agent
// ABOUTME: through a live send stream, every check in the spec's order, the write to the agent, audit and listing.
import { afterEach, describe, expect, it } from "vitest";
import type { FakeAgent } from "./support/fake-agent-io.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";
import { openSse, type SseResponse } from "./support/sse-client.js";

let h: HttpHarness | undefined;
let url = "";
const streams: SseResponse[] = [];

afterEach(async () => {
  for (const sse of streams.splice(0)) sse.destroy();
  await h?.close();
  h = undefined;
});

async function setup(agentIds: string[] = ["a1"], failWritesOf?: "tool_approval") {
  h = await createHttpHarness();
  const agents: FakeAgent[] = [];
  for (const agentId of agentIds) agents.push(await h.connectAgent({ agentId, failWritesOf }));
  url = await h.listen();
  return { harness: h, agents };
}

/** Opens a send stream to the agent and has it ask for approval of `toolId`; resolves once the row is pending. */
async function raiseApproval(harness: HttpHarness, agent: FakeAgent, agentId: string, toolId: string) {
  const sse = await openSse(url, "/api/send", { body: { agent_id: agentId, content: "go", sender: "tester" } });
  streams.push(sse);
  const sent = await agent.nextSendMessage();
  agent.respond(sent.requestId, { kind: "tool_approval", id: toolId, name: "bash", inputJson: '{"cmd":"ls"}', requestId: sent.requestId });
  await sse.waitFor((frames) => frames.some((f) => f.event === "tool_approval"));
  const pending = await harness.approvals.listPending(agentId);
  expect(pending.some((a) => a.toolId === toolId && a.requestId === sent.requestId)).toBe(true);
  return { sse, requestId: sent.requestId, threadId: sent.threadId };
}

function approve(harness: HttpHarness, payload: unknown) {
  return harness.app.inject({
    method: "POST",
    url: "/api/tools/approve",
    payload: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
}

describe("POST /api/tools/approve", () => {
  it("resolves the pending approval, writes ToolApprovalResponse to the agent, answers 200 and audits", async () => {
    const { harness, agents } = await setup();
    const agent = agents[0] as FakeAgent;
    const { sse, requestId } = await raiseApproval(harness, agent, "a1", "tool-1");

    const res = await approve(harness, { agent_id: "a1", tool_id: "tool-1", approved: true, approve_all: true });

    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.body).toBe('{"approved":true,"success":true}\n');
    expect(agent.frames.filter((f) => f.kind === "tool_approval")).toEqual([
      { kind: "tool_approval", id: "tool-1", approved: true, approveAll: true },
    ]);
    expect(await harness.approvals.listPending()).toEqual([]);
    const audit = await harness.audit("approve_tool");
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor).toBe("anonymous");
    expect(JSON.parse(audit[0]?.detailJson ?? "{}")).toEqual({
      agent_id: "a1",
      tool_id: "tool-1",
      request_id: requestId,
      approved: true,
      approve_all: true,
    });

    agent.respond(requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    await sse.ended;
  });

  it("treats missing booleans as false and denies", async () => {
    const { harness, agents } = await setup();
    const agent = agents[0] as FakeAgent;
    await raiseApproval(harness, agent, "a1", "tool-1");

    const res = await approve(harness, { agent_id: "a1", tool_id: "tool-1" });

    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"approved":false,"success":true}\n');
    expect(agent.frames.filter((f) => f.kind === "tool_approval")).toEqual([
      { kind: "tool_approval", id: "tool-1", approved: false, approveAll: false },
    ]);
  });

  it("runs the body checks first, in order", async () => {
    const { harness } = await setup();
    const cases: Array<[unknown, string]> = [
      ["not json", "invalid JSON body"],
      ["[1]", "invalid JSON body"],
      [{ agent_id: "a1", tool_id: "t", approved: "yes" }, "invalid JSON body"],
      [{ agent_id: 7, tool_id: "t" }, "invalid JSON body"],
      [{}, "agent_id is required"],
      [{ agent_id: "", tool_id: "" }, "agent_id is required"],
      [{ agent_id: "nobody" }, "tool_id is required"],
    ];
    for (const [payload, error] of cases) {
      const res = await approve(harness, payload);
      expect([res.statusCode, res.json()]).toEqual([400, { error }]);
    }
  });

  it("answers 404 agent not found before looking for the approval", async () => {
    const { harness, agents } = await setup(["a1"]);
    await raiseApproval(harness, agents[0] as FakeAgent, "a1", "tool-1");

    const res = await approve(harness, { agent_id: "ghost", tool_id: "tool-1", approved: true });

    expect([res.statusCode, res.json()]).toEqual([404, { error: "agent not found" }]);
    expect(await harness.approvals.listPending("a1")).toHaveLength(1);
  });

  it("answers 404 tool approval not found when the pair has no row", async () => {
    const { harness, agents } = await setup(["a1", "a2"]);
    await raiseApproval(harness, agents[0] as FakeAgent, "a1", "tool-1");

    const unknownTool = await approve(harness, { agent_id: "a1", tool_id: "tool-9", approved: true });
    const otherAgent = await approve(harness, { agent_id: "a2", tool_id: "tool-1", approved: true });

    expect([unknownTool.statusCode, unknownTool.json()]).toEqual([404, { error: "tool approval not found" }]);
    expect([otherAgent.statusCode, otherAgent.json()]).toEqual([404, { error: "tool approval not found" }]);
    expect(await harness.approvals.listPending("a1")).toHaveLength(1);
  });

  it("answers 409 tool approval already resolved once no row is pending, and writes nothing more", async () => {
    const { harness, agents } = await setup();
    const agent = agents[0] as FakeAgent;
    await raiseApproval(harness, agent, "a1", "tool-1");
    expect((await approve(harness, { agent_id: "a1", tool_id: "tool-1", approved: true })).statusCode).toBe(200);

    const again = await approve(harness, { agent_id: "a1", tool_id: "tool-1", approved: false });

    expect([again.statusCode, again.json()]).toEqual([409, { error: "tool approval already resolved" }]);
    expect(agent.frames.filter((f) => f.kind === "tool_approval")).toHaveLength(1);
    expect(await harness.audit("approve_tool")).toHaveLength(1);
  });

  it("answers 500 failed to send approval when the write to the agent fails", async () => {
    const { harness, agents } = await setup(["a1"], "tool_approval");
    await raiseApproval(harness, agents[0] as FakeAgent, "a1", "tool-1");

    const res = await approve(harness, { agent_id: "a1", tool_id: "tool-1", approved: true });

    expect([res.statusCode, res.json()]).toEqual([500, { error: "failed to send approval" }]);
  });

  it("serves only POST; other methods get an empty 405", async () => {
    const { harness } = await setup([]);
    for (const method of ["GET", "PUT", "DELETE"] as const) {
      const res = await harness.app.inject({ method, url: "/api/tools/approve" });
      expect([res.statusCode, res.body, res.headers.allow]).toEqual([405, "", undefined]);
    }
  });
});

describe("GET /api/tools/pending", () => {
  it("lists pending approvals oldest first with the spec's keys, optionally for one agent", async () => {
    const { harness, agents } = await setup(["a1", "a2"]);
    const first = await raiseApproval(harness, agents[0] as FakeAgent, "a1", "tool-1");
    const second = await raiseApproval(harness, agents[1] as FakeAgent, "a2", "tool-2");

    const all = await harness.app.inject({ method: "GET", url: "/api/tools/pending" });
    expect(all.statusCode).toBe(200);
    expect(all.headers["content-type"]).toBe("application/json");
    const body = all.json() as { approvals: Array<Record<string, unknown>> };
    expect(body.approvals.map((a) => a.tool_id)).toEqual(["tool-1", "tool-2"]);
    expect(Object.keys(body.approvals[0] ?? {})).toEqual([
      "agent_id",
      "request_id",
      "tool_id",
      "tool_name",
      "input_json",
      "thread_id",
      "created_at",
      "expires_at",
    ]);
    expect(body.approvals[0]).toMatchObject({
      agent_id: "a1",
      request_id: first.requestId,
      tool_id: "tool-1",
      tool_name: "bash",
      input_json: '{"cmd":"ls"}',
      thread_id: first.threadId,
    });
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    expect(body.approvals[0]?.created_at).toMatch(iso);
    expect(body.approvals[0]?.expires_at).toMatch(iso);
    expect(Date.parse(String(body.approvals[0]?.expires_at)) - Date.parse(String(body.approvals[0]?.created_at))).toBe(300_000);

    const one = await harness.app.inject({ method: "GET", url: "/api/tools/pending?agent_id=a2" });
    expect((one.json() as { approvals: Array<{ request_id: string }> }).approvals.map((a) => a.request_id)).toEqual([second.requestId]);

    await approve(harness, { agent_id: "a1", tool_id: "tool-1", approved: true });
    const after = await harness.app.inject({ method: "GET", url: "/api/tools/pending?agent_id=a1" });
    expect(after.body).toBe('{"approvals":[]}\n');
  });

  it("serves only GET", async () => {
    const { harness } = await setup([]);
    const res = await harness.app.inject({ method: "POST", url: "/api/tools/pending" });
    expect([res.statusCode, res.body]).toEqual([405, ""]);
  });
});
