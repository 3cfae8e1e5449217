// ABOUTME: /api/bindings: 405, the admin gate, POST checks in order, 201 vs 200 unchanged vs rebind (rebound_from),
// ABOUTME: audit rows in one transaction, the 409 lost race, DELETE, and both GET forms over real SQLite and agents.
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpAuthenticator } from "../../src/http/http-auth.js";
import { raceClock } from "./support/race-clock.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { createBindingRepository } from "../../src/store/binding-repository.js";
import { createHttpHarness, type HttpHarness } from "./support/http-harness.js";

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function withRoles(id: string, roles: string[]): HttpAuthenticator {
  return { authenticate: async () => ({ id, isAnonymous: false, roles }) };
}

async function call(method: "GET" | "POST" | "DELETE" | "PUT" | "PATCH", url: string, payload?: unknown) {
  const res = await h!.app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: typeof payload === "string" ? payload : JSON.stringify(payload) }),
  });
  return { status: res.statusCode, body: res.body, json: () => res.json() as Record<string, unknown> };
}

const bind = (body: unknown) => call("POST", "/api/bindings", body);

async function auditRows(harness: HttpHarness) {
  const rows = await createAuditRepository(harness.store.db).list({ limit: 50 });
  return rows.reverse().map((r) => ({ actor: r.actor, action: r.action, target: `${r.targetType}/${r.targetId}`, detail: r.detailJson }));
}

describe("/api/bindings method and admin gate", () => {
  it("answers 405 with an empty body for methods other than GET, POST, DELETE", async () => {
    h = await createHttpHarness({ deps: { auth: withRoles("p-member", ["member"]) } });
    for (const method of ["PUT", "PATCH"] as const) {
      const res = await call(method, "/api/bindings", "{");
      expect([res.status, res.body]).toEqual([405, ""]);
    }
  });

  it("requires admin or owner for POST and DELETE (before their own checks), not for GET", async () => {
    h = await createHttpHarness({ deps: { auth: withRoles("p-member", ["member", "leader"]) } });
    for (const res of [await bind("{"), await call("DELETE", "/api/bindings")]) {
      expect(res.status).toBe(403);
      expect(res.body).toBe('{"error":"admin role required"}\n');
    }
    expect((await call("GET", "/api/bindings")).status).toBe(200);
  });

  it.each([["admin"], ["owner"]])("lets the %s role through", async (role) => {
    h = await createHttpHarness({ deps: { auth: withRoles("p-boss", [role]) } });
    expect((await bind("{")).json()).toEqual({ error: "invalid JSON body" });
    expect((await call("DELETE", "/api/bindings")).json()).toEqual({ error: "frontend and channel_id query params required" });
  });
});

describe("POST /api/bindings", () => {
  it("runs body, required fields, instance lookup in that order", async () => {
    h = await createHttpHarness();
    expect((await bind("[]")).json()).toEqual({ error: "invalid JSON body" });
    expect((await bind({ frontend: 1 })).json()).toEqual({ error: "invalid JSON body" });
    const required = { error: "frontend, channel_id, and instance_id are required" };
    expect((await bind({ channel_id: "c1", instance_id: "i1" })).json()).toEqual(required);
    expect((await bind({ frontend: "slack", channel_id: "", instance_id: "i1" })).json()).toEqual(required);
    expect((await bind({ frontend: "slack", channel_id: "c1" })).json()).toEqual(required);
    expect((await bind("null")).json()).toEqual(required);
    const missing = await bind({ frontend: "Not A Format!", channel_id: "c1", instance_id: "abc123" });
    expect(missing.status).toBe(404);
    expect(missing.body).toBe(`{"error":"no agent online with instance_id 'abc123'"}\n`);
  });

  it("creates with 201, then answers the same binding 200 unchanged without writing", async () => {
    h = await createHttpHarness();
    const agent = await h.connectAgent({ agentId: "a1", name: "Alpha", workingDir: "/w/a" });
    const instanceId = h.agents.get("a1")!.instanceId;
    const created = await bind({ frontend: "slack", channel_id: "c1", instance_id: instanceId });
    expect(created.status).toBe(201);
    const bindingId = created.json().binding_id as string;
    expect(created.body).toBe(`{"binding_id":"${bindingId}","agent_name":"Alpha","working_dir":"/w/a","rebound_from":null}\n`);
    const stored = await createBindingRepository(h.store.db).findByChannel("slack", "c1");
    expect(stored).toMatchObject({ id: bindingId, agentId: "anonymous", workingDir: "/w/a", createdBy: "anonymous" });
    expect(await auditRows(h)).toEqual([
      {
        actor: "anonymous",
        action: "create_binding",
        target: `binding/${bindingId}`,
        detail: '{"frontend":"slack","channel_id":"c1","agent_id":"anonymous","working_dir":"/w/a"}',
      },
    ]);

    const again = await bind({ frontend: "slack", channel_id: "c1", instance_id: instanceId });
    expect(again.status).toBe(200);
    expect(again.body).toBe(`{"binding_id":"${bindingId}","agent_name":"Alpha","working_dir":"/w/a","rebound_from":null}\n`);
    expect(await auditRows(h)).toHaveLength(1);
    expect(await createBindingRepository(h.store.db).list()).toEqual([stored]);
    expect(agent.ended).toBeUndefined();
  });

  it("rebinds with 201: rebound_from is the old agent's name when online; delete and create are audited by the caller", async () => {
    h = await createHttpHarness({ deps: { auth: withRoles("p-admin", ["admin"]) } });
    await h.connectAgent({ agentId: "a1", principalId: "p-one", name: "One", workingDir: "/w" });
    await h.connectAgent({ agentId: "a2", principalId: "p-one", name: "Two", workingDir: "/other" });
    const first = await bind({ frontend: "slack", channel_id: "c1", instance_id: h.agents.get("a1")!.instanceId });
    const oldId = first.json().binding_id as string;
    const rebound = await bind({ frontend: "slack", channel_id: "c1", instance_id: h.agents.get("a2")!.instanceId });
    expect(rebound.status).toBe(201);
    const newId = rebound.json().binding_id as string;
    expect(newId).not.toBe(oldId);
    expect(rebound.body).toBe(`{"binding_id":"${newId}","agent_name":"Two","working_dir":"/other","rebound_from":"One"}\n`);
    expect(await createBindingRepository(h.store.db).list()).toEqual([
      expect.objectContaining({ id: newId, agentId: "p-one", workingDir: "/other", createdBy: "p-admin" }),
    ]);
    expect((await auditRows(h)).map((r) => [r.actor, r.action, r.target])).toEqual([
      ["p-admin", "create_binding", `binding/${oldId}`],
      ["p-admin", "delete_binding", `binding/${oldId}`],
      ["p-admin", "create_binding", `binding/${newId}`],
    ]);
  });

  it("reports the old principal id as rebound_from when the old agent is offline", async () => {
    h = await createHttpHarness();
    const old = await h.connectAgent({ agentId: "a1", principalId: "p-old", name: "Old" });
    await bind({ frontend: "slack", channel_id: "c1", instance_id: h.agents.get("a1")!.instanceId });
    old.disconnect();
    await h.connectAgent({ agentId: "a2", principalId: "p-new", name: "New" });
    const rebound = await bind({ frontend: "slack", channel_id: "c1", instance_id: h.agents.get("a2")!.instanceId });
    expect(rebound.status).toBe(201);
    expect(rebound.json()).toMatchObject({ agent_name: "New", working_dir: "", rebound_from: "p-old" });
  });

  it("answers 409 binding already exists when a concurrent insert wins the key, writing nothing", async () => {
    const clock = raceClock();
    h = await createHttpHarness({ clock });
    await h.connectAgent({ agentId: "a1", name: "Alpha" });
    const racer = new SQLite(h.store.path);
    try {
      clock.arm("binding-service", () => {
        racer
          .prepare("INSERT INTO bindings (binding_id, frontend, channel_id, agent_id, working_dir, created_at) VALUES (?, ?, ?, ?, ?, ?)")
          .run("racer-binding", "slack", "c1", "p-racer", "", "2024-01-01T00:00:00.000Z");
      });
      const res = await bind({ frontend: "slack", channel_id: "c1", instance_id: h.agents.get("a1")!.instanceId });
      expect(clock.armed).toBe(false);
      expect(res.status).toBe(409);
      expect(res.body).toBe('{"error":"binding already exists"}\n');
    } finally {
      racer.close();
    }
    expect((await createBindingRepository(h.store.db).list()).map((b) => b.id)).toEqual(["racer-binding"]);
    expect(await auditRows(h)).toEqual([]);
  });

  it("answers 409 on a rebind whose binding was replaced concurrently, writing nothing", async () => {
    const clock = raceClock();
    h = await createHttpHarness({ clock });
    await h.connectAgent({ agentId: "a1", principalId: "p-one" });
    await h.connectAgent({ agentId: "a2", principalId: "p-two" });
    const first = await bind({ frontend: "slack", channel_id: "c1", instance_id: h.agents.get("a1")!.instanceId });
    const oldId = first.json().binding_id as string;
    const racer = new SQLite(h.store.path);
    try {
      clock.arm("binding-service", () => {
        racer.prepare("UPDATE bindings SET binding_id = 'racer-binding' WHERE binding_id = ?").run(oldId);
      });
      const res = await bind({ frontend: "slack", channel_id: "c1", instance_id: h.agents.get("a2")!.instanceId });
      expect(clock.armed).toBe(false);
      expect(res.status).toBe(409);
    } finally {
      racer.close();
    }
    expect((await createBindingRepository(h.store.db).list()).map((b) => [b.id, b.agentId])).toEqual([["racer-binding", "p-one"]]);
    expect((await auditRows(h)).map((r) => r.action)).toEqual(["create_binding"]);
  });
});

describe("DELETE /api/bindings", () => {
  it("needs both query params, 404s an unknown binding, and deletes with 204 and an audit row", async () => {
    h = await createHttpHarness();
    await h.connectAgent({ agentId: "a1" });
    const created = await bind({ frontend: "slack", channel_id: "c1", instance_id: h.agents.get("a1")!.instanceId });
    const bindingId = created.json().binding_id as string;
    const required = { error: "frontend and channel_id query params required" };
    expect((await call("DELETE", "/api/bindings?frontend=slack")).json()).toEqual(required);
    expect((await call("DELETE", "/api/bindings?frontend=&channel_id=c1")).json()).toEqual(required);
    const unknown = await call("DELETE", "/api/bindings?frontend=slack&channel_id=c2");
    expect([unknown.status, unknown.body]).toEqual([404, '{"error":"binding not found"}\n']);
    const deleted = await call("DELETE", "/api/bindings?frontend=slack&channel_id=c1");
    expect([deleted.status, deleted.body]).toEqual([204, ""]);
    expect(await createBindingRepository(h.store.db).list()).toEqual([]);
    expect((await auditRows(h)).map((r) => [r.actor, r.action, r.target])).toEqual([
      ["anonymous", "create_binding", `binding/${bindingId}`],
      ["anonymous", "delete_binding", `binding/${bindingId}`],
    ]);
    expect((await call("DELETE", "/api/bindings?frontend=slack&channel_id=c1")).status).toBe(404);
  });
});

describe("GET /api/bindings", () => {
  it("lists every binding newest first, naming the matching connected agent only when online", async () => {
    h = await createHttpHarness();
    const repo = createBindingRepository(h.store.db);
    await repo.insert({ id: "b-old", frontend: "slack", channelId: "c1", agentId: "p-one", workingDir: "/w", now: "2024-01-15T10:00:00.000Z" });
    await repo.insert({ id: "b-mid", frontend: "discord", channelId: "c2", agentId: "p-one", workingDir: "/elsewhere", now: "2024-01-15T11:00:00.000Z" });
    await repo.insert({ id: "b-new", frontend: "slack", channelId: "c3", agentId: "p-two", now: "2024-01-15T12:00:00.000Z" });
    await h.connectAgent({ agentId: "a1", principalId: "p-one", name: "One", workingDir: "/w" });
    const res = await call("GET", "/api/bindings?frontend=slack");
    expect(res.status).toBe(200);
    expect(res.body).toBe(
      '{"bindings":[' +
        '{"frontend":"slack","channel_id":"c3","agent_id":"p-two","agent_online":false,"working_dir":"","created_at":"2024-01-15T12:00:00.000Z"},' +
        '{"frontend":"discord","channel_id":"c2","agent_id":"p-one","agent_online":false,"working_dir":"/elsewhere","created_at":"2024-01-15T11:00:00.000Z"},' +
        '{"frontend":"slack","channel_id":"c1","agent_id":"p-one","agent_name":"One","agent_online":true,"working_dir":"/w","created_at":"2024-01-15T10:00:00.000Z"}]}\n',
    );
  });

  it("answers an empty list as []", async () => {
    h = await createHttpHarness();
    expect((await call("GET", "/api/bindings")).body).toBe('{"bindings":[]}\n');
  });

  it("returns one binding for frontend+channel_id, with an empty agent_name when offline, and 404s an unknown one", async () => {
    h = await createHttpHarness();
    const repo = createBindingRepository(h.store.db);
    await repo.insert({ id: "b-1", frontend: "slack", channelId: "c1", agentId: "p-one", workingDir: "/w", now: "2024-01-15T10:00:00.000Z" });
    await repo.insert({ id: "b-2", frontend: "slack", channelId: "c2", agentId: "p-two", now: "2024-01-15T10:00:00.000Z" });
    await h.connectAgent({ agentId: "a1", principalId: "p-one", name: "One", workingDir: "/w" });
    expect((await call("GET", "/api/bindings?frontend=slack&channel_id=c1")).body).toBe(
      '{"binding_id":"b-1","agent_name":"One","working_dir":"/w","online":true}\n',
    );
    expect((await call("GET", "/api/bindings?frontend=slack&channel_id=c2")).body).toBe(
      '{"binding_id":"b-2","agent_name":"","working_dir":"","online":false}\n',
    );
    const unknown = await call("GET", "/api/bindings?frontend=slack&channel_id=c9");
    expect([unknown.status, unknown.body]).toEqual([404, '{"error":"no binding for this channel"}\n']);
  });
});
