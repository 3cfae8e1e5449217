// ABOUTME: BindingService over real SQLite: every change commits together with its audit row or not at all, and
// ABOUTME: the channel-and-instance and principal forms keep their own texts and audit details.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentInfo } from "../../src/agent/agent-connection.js";
import { createBindingService, type BindingService } from "../../src/conversation/binding-service.js";
import { manualClock } from "../support/manual-clock.js";
import { randomIds } from "../../src/lib/ids.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { openDatabase, type StoreDatabase } from "../../src/store/database.js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";

let store: StoreDatabase | undefined;
let dir: string | undefined;

afterEach(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  store = undefined;
  dir = undefined;
});

const AGENT: AgentInfo = { instanceId: "inst-1", principalId: "p-agent", workingDir: "/w", name: "builder" } as AgentInfo;

async function setUp(): Promise<BindingService> {
  dir = mkdtempSync(join(tmpdir(), "coven-bindings-"));
  store = await openDatabase({ path: join(dir, "gateway.db"), log: silentLogger });
  const clock = manualClock(new Date("2026-01-02T03:04:05Z"));
  await createPrincipalRepository(store.db).insert({ id: "p-agent", type: "agent", displayName: "agent", status: "approved", now: "2026-01-02T03:04:05Z" });
  return createBindingService({
    db: store.db,
    agents: { findByInstanceId: (id) => (id === AGENT.instanceId ? AGENT : undefined), list: () => [AGENT] },
    clock,
    ids: randomIds,
  });
}

describe("BindingService", () => {
  it("binds by instance with its working dir, audited, and leaves a repeated bind unchanged", async () => {
    const bindings = await setUp();
    const first = await bindings.bindInstance({ frontend: "slack", channelId: "C1", instanceId: "inst-1", actor: "p-admin" });
    expect(first).toMatchObject({ isChanged: true, reboundFrom: null, binding: { agentId: "p-agent", workingDir: "/w" } });
    const again = await bindings.bindInstance({ frontend: "slack", channelId: "C1", instanceId: "inst-1", actor: "p-admin" });
    expect(again).toMatchObject({ isChanged: false, binding: { id: first.binding.id } });
    const audit = await createAuditRepository(store!.db).list({ action: "create_binding", limit: 10 });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: "p-admin", targetId: first.binding.id });
    expect(JSON.parse(audit[0]!.detailJson!)).toEqual({ frontend: "slack", channel_id: "C1", agent_id: "p-agent", working_dir: "/w" });
  });

  it("keeps each form's texts", async () => {
    const bindings = await setUp();
    await expect(bindings.bindInstance({ frontend: "slack", channelId: "C1", instanceId: "gone", actor: "a" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "no agent online with instance_id 'gone'",
    });
    await expect(bindings.create({ frontend: "Slack", channelId: "C1", agentId: "p-agent", actor: "a" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "frontend must be lowercase alphanumeric with underscores, 1-50 chars",
    });
    await bindings.create({ frontend: "slack", channelId: "C1", agentId: "p-agent", actor: "a" });
    await expect(bindings.create({ frontend: "slack", channelId: "C1", agentId: "p-agent", actor: "a" })).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
      message: "channel already bound",
    });
    await expect(bindings.deleteById({ id: "nope", actor: "a" })).rejects.toMatchObject({ code: "NOT_FOUND", message: "binding not found" });
  });

  it("writes no binding when its audit row cannot be written", async () => {
    const bindings = await setUp();
    await store!.db.schema.dropTable("audit_log").execute();
    await expect(bindings.create({ frontend: "slack", channelId: "C1", agentId: "p-agent", actor: "a" })).rejects.toThrow();
    await expect(bindings.bindInstance({ frontend: "slack", channelId: "C2", instanceId: "inst-1", actor: "a" })).rejects.toThrow();
    expect(await bindings.list()).toEqual([]);
  });
});
