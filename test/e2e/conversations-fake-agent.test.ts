// ABOUTME: The real `fake-agent` executable against the real composition root: a reply script with an approval step,
// ABOUTME: driven by POST /api/send and answered over POST /api/tools/approve (approved, then denied).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCleanups, eventNames, httpJson, SseSession, startGateway } from "./support/conversation-e2e.js";
import { buildFakeAgent, spawnFakeAgent, type FakeAgentBuild } from "./support/fake-agent-process.js";

const cleanups = createCleanups();
afterEach(() => cleanups.run());

let build: FakeAgentBuild | undefined;
beforeAll(() => {
  build = buildFakeAgent();
}, 120_000);
afterAll(() => build?.remove());

const SCRIPT = {
  rules: [
    {
      match: "deploy",
      steps: [
        { thinking: "checking the target" },
        { approval: { id: "deploy-1", name: "deploy", input: { target: "prod" }, timeout_ms: 10_000, on_deny: "error" } },
        { tool_use: { id: "deploy-1", name: "deploy", input: { target: "prod" } } },
        { tool_result: { id: "deploy-1", output: "deployed" } },
        { text: "Done: {{message}}" },
        { done: true },
      ],
    },
  ],
};

describe("the fake-agent executable with an approval step", () => {
  it("waits for the approval given over HTTP, then finishes; a denial ends the next turn with its error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coven-e2e-script-"));
    cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
    const scriptPath = join(dir, "script.json");
    writeFileSync(scriptPath, JSON.stringify(SCRIPT));
    const gw = await startGateway(cleanups);
    const fake = await spawnFakeAgent(cleanups, build!.entry, "fake-deployer", [
      "-addr",
      gw.grpcAddr,
      "-name",
      "Fake Deployer",
      "-features",
      "tool_states,token_usage",
      "-script",
      scriptPath,
    ]);
    const agents = (await httpJson(`${gw.httpUrl}/api/agents`)).json as unknown as Array<{ id: string; instance_id: string }>;
    expect(agents.map((a) => [a.id, a.instance_id])).toEqual([["fake-deployer", fake.instanceId]]);

    const approved = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "fake-deployer", sender: "ops", content: "deploy prod" });
    const started = await approved.next("started");
    expect(await approved.next("tool_approval")).toEqual({
      id: "deploy-1",
      input_json: "{\"target\":\"prod\"}",
      name: "deploy",
      request_id: started.request_id,
    });
    const pending = (await httpJson(`${gw.httpUrl}/api/tools/pending?agent_id=fake-deployer`)).json as { approvals: Array<{ tool_id: string }> };
    expect(pending.approvals.map((a) => a.tool_id)).toEqual(["deploy-1"]);
    const yes = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: "fake-deployer", tool_id: "deploy-1", approved: true });
    expect(yes).toEqual({ status: 200, json: { approved: true, success: true } });
    const done = await approved.ended(10_000);
    expect(eventNames(done)).toEqual(["started", "thinking", "tool_approval", "tool_use", "tool_result", "text", "done"]);
    expect(done.frames.at(-1)!.json).toEqual({ full_response: "Done: deploy prod" });

    const denied = new SseSession(cleanups, `${gw.httpUrl}/api/send`, { agent_id: "fake-deployer", sender: "ops", content: "deploy again" });
    await denied.next("tool_approval");
    const no = await httpJson(`${gw.httpUrl}/api/tools/approve`, "POST", { agent_id: "fake-deployer", tool_id: "deploy-1", approved: false });
    expect(no).toEqual({ status: 200, json: { approved: false, success: true } });
    const refused = await denied.ended(10_000);
    expect(eventNames(refused)).toEqual(["started", "thinking", "tool_approval", "error"]);
    expect(refused.frames.at(-1)!.json).toEqual({ error: "tool deploy denied" });
    expect((await httpJson(`${gw.httpUrl}/api/tools/pending`)).json).toEqual({ approvals: [] });
  });
});
