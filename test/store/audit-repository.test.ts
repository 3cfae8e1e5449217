// ABOUTME: Tests the audit repository against a real migrated database: compact JSON detail, filters,
// ABOUTME: newest-first order, and that an entry written in a rolled-back transaction leaves nothing behind.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAuditRepository, webAdminActor, type AuditAction, type AuditRepository } from "../../src/store/audit-repository.js";
import { createBindingRepository } from "../../src/store/binding-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let audit: AuditRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  audit = createAuditRepository(temp.store.db);
});

afterEach(async () => {
  await temp.cleanup();
});

const T1 = "2025-03-01T10:00:00.000Z";
const T2 = "2025-03-01T11:00:00.000Z";

describe("audit repository", () => {
  it("records an entry with compact JSON detail, and without detail", async () => {
    const entry = await audit.record({
      actor: "p-admin",
      action: "create_token",
      targetType: "principal",
      targetId: "p1",
      detail: { ttl_seconds: 60, expires_at: "2025-03-01T10:01:00.000Z" },
      now: T1,
    });
    expect(entry).toMatchObject({ actor: "p-admin", action: "create_token", targetType: "principal", targetId: "p1", ts: T1 });
    expect(entry.detailJson).toBe('{"ttl_seconds":60,"expires_at":"2025-03-01T10:01:00.000Z"}');
    const bare = await audit.record({ actor: "system", action: "approve_tool", targetType: "tool_approval", targetId: "a1", now: T1 });
    expect(bare.detailJson).toBeUndefined();
    const rows = await temp.store.db.selectFrom("audit_log").selectAll().orderBy("ts").execute();
    expect(rows.map((r) => [r.audit_id, r.actor_member_id, r.detail_json])).toEqual([
      [entry.id, null, entry.detailJson],
      [bare.id, null, null],
    ]);
  });

  it("lists newest first (ties: latest insert first) with filters and a limit", async () => {
    const write = (actor: string, action: AuditAction, targetId: string, now: string) =>
      audit.record({ actor, action, targetType: "binding", targetId, now });
    await write("a", "create_binding", "b1", T1);
    await write(webAdminActor("u1"), "update_binding", "b1", T2);
    await write("a", "delete_binding", "b1", T2);
    await write("a", "create_binding", "b2", T1);

    const all = await audit.list({ limit: 10 });
    expect(all.map((e) => `${e.action}:${e.targetId}`)).toEqual([
      "delete_binding:b1",
      "update_binding:b1",
      "create_binding:b2",
      "create_binding:b1",
    ]);
    expect((await audit.list({ targetType: "binding", targetId: "b1", limit: 10 })).length).toBe(3);
    expect((await audit.list({ actor: "webadmin:u1", limit: 10 })).map((e) => e.action)).toEqual(["update_binding"]);
    expect((await audit.list({ action: "create_binding", limit: 10 })).map((e) => e.targetId)).toEqual(["b2", "b1"]);
    expect((await audit.list({ limit: 2 })).length).toBe(2);
  });

  it("an entry recorded in a rolled-back transaction leaves nothing, together with the change", async () => {
    await expect(
      temp.store.db.transaction().execute(async (trx) => {
        const binding = await createBindingRepository(trx).insert({ frontend: "slack", channelId: "c1", agentId: "a", now: T1 });
        await createAuditRepository(trx).record({
          actor: "p-admin",
          action: "create_binding",
          targetType: "binding",
          targetId: binding?.id ?? "",
          now: T1,
        });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await audit.list({ limit: 10 })).toEqual([]);
    expect(await createBindingRepository(temp.store.db).list()).toEqual([]);
  });

  it("a failing audit insert fails the transaction, so the change is rolled back too", async () => {
    await expect(
      temp.store.db.transaction().execute(async (trx) => {
        await createBindingRepository(trx).insert({ frontend: "slack", channelId: "c1", agentId: "a", now: T1 });
        await createAuditRepository(trx).record({
          actor: "p-admin",
          action: "not_an_action" as AuditAction,
          targetType: "binding",
          targetId: "x",
          now: T1,
        });
      }),
    ).rejects.toThrow(/CHECK/);
    expect(await createBindingRepository(temp.store.db).list()).toEqual([]);
  });
});
