// ABOUTME: AdminService binding RPCs over loopback gRPC with an independent client: validation order, codes and
// ABOUTME: messages, ordering and filters, the admin gate, and audit rows committed with (and only with) the change.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { sql } from "kysely";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { createBindingRepository } from "../../src/store/binding-repository.js";
import { adminServiceClient, bearerMetadata } from "../support/proto-client.js";
import { RFC3339_MS, unary } from "./support/conversation-clients.js";
import { startConversationRpc, type ConversationRpcHarness, type ConversationRpcOptions } from "./support/conversation-rpc-harness.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function harness(options: ConversationRpcOptions = {}): Promise<ConversationRpcHarness> {
  const h = await startConversationRpc(options);
  cleanups.push(() => h.stop());
  return h;
}

function admin(h: ConversationRpcHarness): ReturnType<typeof adminServiceClient> {
  const c = adminServiceClient(h.addr);
  cleanups.push(() => c.close());
  return c;
}

interface BindingFrame {
  id: string;
  frontend: string;
  channel_id: string;
  agent_id: string;
  created_at: string;
  created_by?: string;
}

const failure = (code: grpc.status, details: string) => ({ ok: false, code, details });
const audits = async (h: ConversationRpcHarness, action: "create_binding" | "update_binding" | "delete_binding") =>
  (await createAuditRepository(h.store.db).list({ action, limit: 100 })).map((e) => ({
    actor: e.actor,
    target: `${e.targetType}/${e.targetId}`,
    detail: JSON.parse(e.detailJson ?? "null") as unknown,
  }));

describe("AdminService.CreateBinding", () => {
  it("checks frontend, channel_id, agent_id, the agent principal and the channel in spec order", async () => {
    const h = await harness();
    const c = admin(h);
    const client = await h.seedPrincipal({ type: "client" });
    const create = (req: object) => unary(c, "CreateBinding", req);
    const ok = { frontend: "slack", channel_id: "C1", agent_id: "anonymous" };
    expect(await create({ channel_id: "", agent_id: "" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "frontend required"));
    const pattern = failure(grpc.status.INVALID_ARGUMENT, "frontend must be lowercase alphanumeric with underscores, 1-50 chars");
    expect(await create({ frontend: "Slack" })).toEqual(pattern);
    expect(await create({ frontend: "a-b" })).toEqual(pattern);
    expect(await create({ frontend: "a".repeat(51) })).toEqual(pattern);
    expect(await create({ frontend: "a_1" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "channel_id required"));
    // 251 characters, 502 bytes: the limit is on UTF-8 bytes.
    expect(await create({ ...ok, channel_id: "é".repeat(251) })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "channel_id exceeds 500 characters"));
    expect(await create({ ...ok, agent_id: "" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "agent_id required"));
    expect(await create({ ...ok, agent_id: "ghost" })).toEqual(failure(grpc.status.NOT_FOUND, "agent not found"));
    expect(await create({ ...ok, agent_id: client })).toEqual(failure(grpc.status.NOT_FOUND, "agent not found"));
    expect((await create({ ...ok, channel_id: "é".repeat(250) })).ok).toBe(true);
    expect((await create(ok)).ok).toBe(true);
    expect(await create(ok)).toEqual(failure(grpc.status.ALREADY_EXISTS, "channel already bound"));
    expect(await audits(h, "create_binding")).toHaveLength(2);
  });

  it("writes a new binding with created_by = the caller and its create_binding audit row", async () => {
    const h = await harness({ isAuthEnabled: true });
    const caller = await h.seedPrincipal({ roles: ["admin"] });
    const agentId = await h.seedPrincipal({ type: "agent" });
    const result = await unary<BindingFrame>(admin(h), "CreateBinding", { frontend: "matrix", channel_id: "!room", agent_id: agentId }, bearerMetadata(await h.tokenFor(caller)));
    const binding = result.response!;
    expect(binding).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), frontend: "matrix", channel_id: "!room", agent_id: agentId, created_at: expect.stringMatching(RFC3339_MS), created_by: caller });
    expect(await createBindingRepository(h.store.db).findById(binding.id)).toMatchObject({ workingDir: "", createdBy: caller });
    expect(await audits(h, "create_binding")).toEqual([
      { actor: caller, target: `binding/${binding.id}`, detail: { frontend: "matrix", channel_id: "!room", agent_id: agentId } },
    ]);
  });
});

describe("AdminService.ListBindings", () => {
  it("lists newest first with exact frontend/agent_id filters and leaves created_by unset when NULL", async () => {
    const h = await harness();
    const c = admin(h);
    const agentId = await h.seedPrincipal({ type: "agent" });
    await createBindingRepository(h.store.db).insert({ frontend: "irc", channelId: "#old", agentId, createdBy: null, now: "2024-01-01T00:00:00.000Z" });
    await unary(c, "CreateBinding", { frontend: "slack", channel_id: "C1", agent_id: agentId });
    await unary(c, "CreateBinding", { frontend: "slack", channel_id: "C2", agent_id: "anonymous" });
    const list = async (req: object) => (await unary<{ bindings: BindingFrame[] }>(c, "ListBindings", req)).response!.bindings;
    expect((await list({})).map((b) => b.channel_id)).toEqual(["C2", "C1", "#old"]);
    expect((await list({ frontend: "slack" })).map((b) => b.channel_id)).toEqual(["C2", "C1"]);
    expect((await list({ agent_id: agentId })).map((b) => b.channel_id)).toEqual(["C1", "#old"]);
    expect((await list({ frontend: "slack", agent_id: "anonymous" })).map((b) => b.channel_id)).toEqual(["C2"]);
    expect(await list({ frontend: "" })).toEqual([]);
    const old = (await list({ frontend: "irc" }))[0]!;
    expect(old).toEqual({ id: old.id, frontend: "irc", channel_id: "#old", agent_id: agentId, created_at: "2024-01-01T00:00:00.000Z" });
    expect((await list({ frontend: "slack" }))[0]!.created_by).toBe("anonymous");
  });
});

describe("AdminService.UpdateBinding and DeleteBinding", () => {
  it("updates only agent_id after checks in spec order, audited with the previous agent", async () => {
    const h = await harness();
    const c = admin(h);
    const first = await h.seedPrincipal({ type: "agent" });
    const second = await h.seedPrincipal({ type: "agent" });
    const created = (await unary<BindingFrame>(c, "CreateBinding", { frontend: "slack", channel_id: "C1", agent_id: first })).response!;
    const update = (req: object) => unary<BindingFrame>(c, "UpdateBinding", req);
    expect(await update({ agent_id: "" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "id required"));
    expect(await update({ id: "nope" })).toEqual(failure(grpc.status.INVALID_ARGUMENT, "agent_id required"));
    expect(await update({ id: "nope", agent_id: "ghost" })).toEqual(failure(grpc.status.NOT_FOUND, "agent not found"));
    expect(await update({ id: "nope", agent_id: second })).toEqual(failure(grpc.status.NOT_FOUND, "binding not found"));
    const updated = await update({ id: created.id, agent_id: second });
    expect(updated.response).toEqual({ ...created, agent_id: second });
    expect(await audits(h, "update_binding")).toEqual([
      { actor: "anonymous", target: `binding/${created.id}`, detail: { agent_id: second, previous_agent_id: first } },
    ]);
  });

  it("deletes after its checks, audited with the deleted row", async () => {
    const h = await harness();
    const c = admin(h);
    const created = (await unary<BindingFrame>(c, "CreateBinding", { frontend: "slack", channel_id: "C9", agent_id: "anonymous" })).response!;
    expect(await unary(c, "DeleteBinding", {})).toEqual(failure(grpc.status.INVALID_ARGUMENT, "id required"));
    expect(await unary(c, "DeleteBinding", { id: "nope" })).toEqual(failure(grpc.status.NOT_FOUND, "binding not found"));
    expect((await unary(c, "DeleteBinding", { id: created.id })).response).toEqual({});
    expect(await unary(c, "DeleteBinding", { id: created.id })).toEqual(failure(grpc.status.NOT_FOUND, "binding not found"));
    expect(await createBindingRepository(h.store.db).findById(created.id)).toBeUndefined();
    expect(await audits(h, "delete_binding")).toEqual([
      { actor: "anonymous", target: `binding/${created.id}`, detail: { frontend: "slack", channel_id: "C9", agent_id: "anonymous" } },
    ]);
  });

  it("rolls the change back with its audit row and answers the RPC's fixed INTERNAL message", async () => {
    const h = await harness();
    const c = admin(h);
    const created = (await unary<BindingFrame>(c, "CreateBinding", { frontend: "slack", channel_id: "C1", agent_id: "anonymous" })).response!;
    const agentId = await h.seedPrincipal({ type: "agent" });
    await sql`CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit down'); END`.execute(h.store.db);
    expect(await unary(c, "CreateBinding", { frontend: "slack", channel_id: "C2", agent_id: "anonymous" })).toEqual(
      failure(grpc.status.INTERNAL, "failed to create binding"),
    );
    expect(await unary(c, "UpdateBinding", { id: created.id, agent_id: agentId })).toEqual(failure(grpc.status.INTERNAL, "failed to update binding"));
    expect(await unary(c, "DeleteBinding", { id: created.id })).toEqual(failure(grpc.status.INTERNAL, "failed to delete binding"));
    const rows = await createBindingRepository(h.store.db).list();
    expect(rows.map((b) => [b.channelId, b.agentId])).toEqual([["C1", "anonymous"]]);
    await sql`DROP TRIGGER audit_down`.execute(h.store.db);
    await sql`DROP TABLE bindings`.execute(h.store.db);
    expect(await unary(c, "ListBindings", {})).toEqual(failure(grpc.status.INTERNAL, "failed to list bindings"));
  });
});

describe("AdminService binding RPCs behind the admin gate", () => {
  it("refuses callers without admin or owner with PERMISSION_DENIED 'admin role required'", async () => {
    const h = await harness({ isAuthEnabled: true });
    const member = await h.seedPrincipal({ roles: ["member"] });
    const owner = await h.seedPrincipal({ roles: ["owner"] });
    const c = admin(h);
    const denied = failure(grpc.status.PERMISSION_DENIED, "admin role required");
    const asMember = bearerMetadata(await h.tokenFor(member));
    for (const method of ["ListBindings", "CreateBinding", "UpdateBinding", "DeleteBinding"]) {
      expect(await unary(c, method, {}, asMember)).toEqual(denied);
    }
    expect((await unary(c, "ListBindings", {}, bearerMetadata(await h.tokenFor(owner)))).ok).toBe(true);
    expect(await unary(c, "ListBindings", {})).toEqual(failure(grpc.status.UNAUTHENTICATED, "missing authorization header"));
  });
});
