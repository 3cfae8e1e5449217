// ABOUTME: GET /api/agents (order, key order, omitted keys, workspace filter, idle/busy) and the suffix dispatch
// ABOUTME: of /api/agents/ paths, against the real AgentManager driven by fake agent streams.
import { afterEach, describe, expect, it } from "vitest";
import { agentListing } from "../../src/agent/agent-listing.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("GET /api/agents", () => {
  it("lists connected agents sorted by name then id, keys in order, empty optionals omitted", async () => {
    h = await createHttpHarness();
    await h.connectAgent({ agentId: "z-1", name: "beta" });
    await h.connectAgent({
      agentId: "b-2",
      name: "alpha",
      capabilities: ["chat", "leader"],
      workspaces: ["ws1", "ws2"],
      workingDir: "/src/x",
      backend: "claude",
    });
    await h.connectAgent({ agentId: "a-3", name: "beta" });
    const res = await h.app.inject({ method: "GET", url: "/api/agents" });
    expect(res.statusCode).toBe(200);
    const list = res.json() as Array<Record<string, unknown>>;
    expect(list.map((a) => a.id)).toEqual(["b-2", "a-3", "z-1"]);
    expect(Object.keys(list[0] ?? {})).toEqual(["id", "instance_id", "name", "capabilities", "workspaces", "working_dir", "backend", "state"]);
    expect(list[0]).toMatchObject({ name: "alpha", capabilities: ["chat", "leader"], workspaces: ["ws1", "ws2"], working_dir: "/src/x", backend: "claude", state: "idle" });
    expect(list[0]?.instance_id).toMatch(/^[0-9a-f-]{12}$/);
    expect(list[1]).toEqual({ id: "a-3", instance_id: list[1]?.instance_id, name: "beta", capabilities: [], state: "idle" });
    expect(res.body.endsWith("]\n")).toBe(true);
  });

  it("filters by an exact workspace tag", async () => {
    h = await createHttpHarness();
    await h.connectAgent({ agentId: "a1", workspaces: ["alpha", "beta"] });
    await h.connectAgent({ agentId: "a2", workspaces: ["alphabet"] });
    await h.connectAgent({ agentId: "a3" });
    const ids = async (url: string) => ((await h!.app.inject({ method: "GET", url })).json() as Array<{ id: string }>).map((a) => a.id);
    expect(await ids("/api/agents?workspace=alpha")).toEqual(["a1"]);
    expect(await ids("/api/agents?workspace=alphabet")).toEqual(["a2"]);
    expect(await ids("/api/agents?workspace=gamma")).toEqual([]);
    expect(await ids("/api/agents?workspace=")).toEqual(["a1", "a2", "a3"]);
  });

  it("keeps the list exact as agents come and go: order, escaping and the body byte for byte", async () => {
    h = await createHttpHarness();
    const url = await h.listen();
    const body = async () => (await fetch(`${url}/api/agents`)).text();
    const expected = () => `${JSON.stringify(h!.agents.list().map(agentListing))}\n`;
    const quoted = await h.connectAgent({ agentId: "q-1", name: 'say "hi" \\ 💡', workspaces: ["ws"] });
    await h.connectAgent({ agentId: "m-1", name: "middle", backend: "claude" });
    expect(await body()).toBe(expected());
    expect((JSON.parse(await body()) as Array<{ id: string }>).map((a) => a.id)).toEqual(["m-1", "q-1"]);
    // A change after a list has been served: the next list shows it.
    await h.connectAgent({ agentId: "a-1", name: "alpha" });
    quoted.disconnect();
    await quoted.waitFor(() => h!.agents.get("q-1") === undefined);
    expect((JSON.parse(await body()) as Array<{ id: string }>).map((a) => a.id)).toEqual(["a-1", "m-1"]);
    expect(await body()).toBe(expected());
    const again = await h.connectAgent({ agentId: "q-1", name: "zulu" });
    expect((JSON.parse(await body()) as Array<{ id: string; name: string }>).map((a) => `${a.id}:${a.name}`)).toEqual(["a-1:alpha", "m-1:middle", "q-1:zulu"]);
    expect(await body()).toBe(expected());
    again.disconnect();
  });

  it("reports busy while a request is in flight and idle after it ends", async () => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1" });
    const url = await h.listen();
    const state = async () => ((await fetch(`${url}/api/agents`)).json() as Promise<Array<{ state: string }>>).then((l) => l[0]?.state);
    expect(await state()).toBe("idle");
    const send = fetch(`${url}/api/send`, { method: "POST", body: JSON.stringify({ content: "hi", sender: "me", agent_id: "a1" }) });
    const { requestId } = await agent.nextSendMessage();
    expect(await state()).toBe("busy");
    agent.respond(requestId, { kind: "done", fullResponse: "ok", origin: "agent" });
    await (await send).text();
    expect(await state()).toBe("idle");
  });
});

describe("/api/agents/ suffix dispatch", () => {
  it("answers 400 for any other suffix, before the method check", async () => {
    h = await createHttpHarness();
    for (const [method, url] of [
      ["GET", "/api/agents/a1"],
      ["DELETE", "/api/agents/a1/foo"],
      ["GET", "/api/agents/"],
      ["POST", "/api/agents/a1/history/"],
      ["GET", "/api/agents/a1/sendx"],
    ] as const) {
      const res = await h.app.inject({ method, url });
      expect(res.statusCode, url).toBe(400);
      expect(res.body).toBe('{"error":"invalid path: must end with /history or /send"}\n');
    }
  });

  it("routes /history and /send, then rejects bad ids after the method check", async () => {
    h = await createHttpHarness();
    for (const url of ["/api/agents/history", "/api/agents//history", "/api/agents/a/b/history", "/api/agents/a%2Fb/history", "/api/agents/a..b/history"]) {
      const res = await h.app.inject({ method: "GET", url });
      expect(res.json(), url).toEqual({ error: "invalid path or agent_id" });
      expect((await h.app.inject({ method: "POST", url })).statusCode, url).toBe(405);
    }
    for (const url of ["/api/agents/send", "/api/agents/x/../send"]) {
      const res = await h.app.inject({ method: "POST", url, payload: "{}" });
      expect(res.json(), url).toEqual({ error: "invalid path or agent_id" });
      expect((await h.app.inject({ method: "GET", url })).statusCode, url).toBe(405);
    }
  });
});
