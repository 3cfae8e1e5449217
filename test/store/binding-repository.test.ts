// ABOUTME: Tests the binding repository against a real migrated database: insert and the (frontend, channel_id)
// ABOUTME: conflict, lookups, newest-first listing with exact filters, agent updates and deletes.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBindingRepository, type BindingRepository } from "../../src/store/binding-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let bindings: BindingRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  bindings = createBindingRepository(temp.store.db);
});

afterEach(async () => {
  await temp.cleanup();
});

const T1 = "2025-03-01T10:00:00.000Z";
const T2 = "2025-03-01T11:00:00.000Z";

describe("binding repository", () => {
  it("inserts with defaults and finds by id and by channel", async () => {
    const inserted = await bindings.insert({ id: "b1", frontend: "slack", channelId: "C1", agentId: "agent-p", now: T1 });
    const expected = { id: "b1", frontend: "slack", channelId: "C1", agentId: "agent-p", workingDir: "", createdAt: T1, createdBy: undefined };
    expect(inserted).toEqual(expected);
    expect(await bindings.findById("b1")).toEqual(expected);
    expect(await bindings.findByChannel("slack", "C1")).toEqual(expected);
    expect(await bindings.findByChannel("slack", "C2")).toBeUndefined();
    expect(await bindings.findById("missing")).toBeUndefined();
    const full = await bindings.insert({ frontend: "web", channelId: "x", agentId: "a", workingDir: "/srv", createdBy: "webadmin:u1", now: T1 });
    expect(full).toMatchObject({ workingDir: "/srv", createdBy: "webadmin:u1" });
    expect(full?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("returns undefined when (frontend, channel_id) is already bound, keeping the first", async () => {
    await bindings.insert({ id: "b1", frontend: "slack", channelId: "C1", agentId: "first", now: T1 });
    expect(await bindings.insert({ id: "b2", frontend: "slack", channelId: "C1", agentId: "second", now: T2 })).toBeUndefined();
    expect(await bindings.findById("b2")).toBeUndefined();
    expect((await bindings.findByChannel("slack", "C1"))?.agentId).toBe("first");
    expect(await bindings.insert({ id: "b3", frontend: "discord", channelId: "C1", agentId: "x", now: T2 })).toBeDefined();
  });

  it("lists newest created_at first, ties by latest insert, with exact filters", async () => {
    await bindings.insert({ id: "old", frontend: "slack", channelId: "1", agentId: "a", now: T1 });
    await bindings.insert({ id: "tie-1", frontend: "slack", channelId: "2", agentId: "b", now: T2 });
    await bindings.insert({ id: "tie-2", frontend: "discord", channelId: "3", agentId: "a", now: T2 });
    await bindings.insert({ id: "empty", frontend: "", channelId: "4", agentId: "a", now: T1 });
    expect((await bindings.list()).map((b) => b.id)).toEqual(["tie-2", "tie-1", "empty", "old"]);
    expect((await bindings.list({ frontend: "slack" })).map((b) => b.id)).toEqual(["tie-1", "old"]);
    expect((await bindings.list({ agentId: "a", frontend: "discord" })).map((b) => b.id)).toEqual(["tie-2"]);
    expect((await bindings.list({ frontend: "" })).map((b) => b.id)).toEqual(["empty"]);
  });

  it("updateAgent changes only agent_id", async () => {
    await bindings.insert({ id: "b1", frontend: "slack", channelId: "C1", agentId: "a", workingDir: "/w", createdBy: "p", now: T1 });
    expect(await bindings.updateAgent("b1", "b")).toEqual({
      id: "b1",
      frontend: "slack",
      channelId: "C1",
      agentId: "b",
      workingDir: "/w",
      createdAt: T1,
      createdBy: "p",
    });
    expect(await bindings.updateAgent("missing", "b")).toBeUndefined();
  });

  it("deletes by id and by channel, reporting whether a row went", async () => {
    await bindings.insert({ id: "b1", frontend: "slack", channelId: "C1", agentId: "a", now: T1 });
    await bindings.insert({ id: "b2", frontend: "slack", channelId: "C2", agentId: "a", now: T1 });
    expect(await bindings.delete("b1")).toBe(true);
    expect(await bindings.delete("b1")).toBe(false);
    expect(await bindings.deleteByChannel("slack", "C2")).toBe(true);
    expect(await bindings.deleteByChannel("slack", "C2")).toBe(false);
    expect(await bindings.list()).toEqual([]);
  });
});
