// ABOUTME: Tests the thread repository: lookups by id and by (frontend_name, external_id), insert conflicts.
// ABOUTME: A conflicting insert returns undefined rather than throwing, and leaves the first row untouched.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createThreadRepository, type ThreadRepository } from "../../src/store/thread-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let threads: ThreadRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  threads = createThreadRepository(temp.store.db);
});

afterEach(async () => {
  await temp.cleanup();
});

const NOW = "2025-03-01T10:00:00.000Z";

describe("thread repository", () => {
  it("inserts and finds a thread by id and by pair", async () => {
    const inserted = await threads.insert({ id: "t1", frontendName: "client", externalId: "agent-1", agentId: "agent-1", now: NOW });
    const expected = { id: "t1", frontendName: "client", externalId: "agent-1", agentId: "agent-1", createdAt: NOW, updatedAt: NOW };
    expect(inserted).toEqual(expected);
    expect(await threads.findById("t1")).toEqual(expected);
    expect(await threads.findByPair("client", "agent-1")).toEqual(expected);
  });

  it("returns undefined for absent threads", async () => {
    expect(await threads.findById("missing")).toBeUndefined();
    expect(await threads.findByPair("client", "missing")).toBeUndefined();
  });

  it("returns undefined when the (frontend_name, external_id) pair is taken", async () => {
    await threads.insert({ id: "t1", frontendName: "slack", externalId: "c1", agentId: "a", now: NOW });
    const second = await threads.insert({ id: "t2", frontendName: "slack", externalId: "c1", agentId: "b", now: NOW });
    expect(second).toBeUndefined();
    expect(await threads.findById("t2")).toBeUndefined();
    expect((await threads.findByPair("slack", "c1"))?.id).toBe("t1");
  });

  it("returns undefined when the id is taken", async () => {
    await threads.insert({ id: "t1", frontendName: "slack", externalId: "c1", agentId: "a", now: NOW });
    expect(await threads.insert({ id: "t1", frontendName: "slack", externalId: "c2", agentId: "a", now: NOW })).toBeUndefined();
    expect(await threads.findByPair("slack", "c2")).toBeUndefined();
  });

  it("still throws on errors other than uniqueness", async () => {
    await expect(
      threads.insert({ id: "t1", frontendName: null as unknown as string, externalId: "c1", agentId: "a", now: NOW }),
    ).rejects.toThrow(/NOT NULL/);
  });
});
