// ABOUTME: Tests idempotency keys: lookup ignores expired rows, insert replaces only expired rows, sweep, delete.
// ABOUTME: Also that insert commits or rolls back with the transaction it is given.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createIdempotencyRepository, type IdempotencyKey, type IdempotencyRepository } from "../../src/store/idempotency-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let keys: IdempotencyRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  keys = createIdempotencyRepository(temp.store.db);
});

afterEach(async () => {
  await temp.cleanup();
});

function key(overrides: Partial<IdempotencyKey> = {}): IdempotencyKey {
  return {
    scope: "principal:p1",
    key: "k1",
    requestHash: "a".repeat(64),
    messageId: "m1",
    threadId: "t1",
    requestId: "r1",
    createdAt: "2025-01-01T00:00:00.000Z",
    expiresAt: "2025-01-02T00:00:00.000Z",
    ...overrides,
  };
}

describe("idempotency repository", () => {
  it("finds a live row and ignores it once expired", async () => {
    expect(await keys.insert(key())).toBe(true);
    expect(await keys.find("principal:p1", "k1", "2025-01-01T23:59:59.999Z")).toEqual(key());
    expect(await keys.find("principal:p1", "k1", "2025-01-02T00:00:00.000Z")).toBeUndefined();
    expect(await keys.find("principal:p2", "k1", "2025-01-01T00:00:00.000Z")).toBeUndefined();
  });

  it("refuses to overwrite a live row and replaces an expired one", async () => {
    await keys.insert(key());
    expect(await keys.insert(key({ messageId: "m2", createdAt: "2025-01-01T12:00:00.000Z", expiresAt: "2025-01-02T12:00:00.000Z" }))).toBe(false);
    expect((await keys.find("principal:p1", "k1", "2025-01-01T12:00:00.000Z"))?.messageId).toBe("m1");

    const fresh = key({ messageId: "m3", requestHash: "b".repeat(64), requestId: null, createdAt: "2025-01-03T00:00:00.000Z", expiresAt: "2025-01-04T00:00:00.000Z" });
    expect(await keys.insert(fresh)).toBe(true);
    expect(await keys.find("principal:p1", "k1", "2025-01-03T00:00:00.000Z")).toEqual(fresh);
  });

  it("deletes a key", async () => {
    await keys.insert(key());
    expect(await keys.delete("principal:p1", "k1")).toBe(true);
    expect(await keys.delete("principal:p1", "k1")).toBe(false);
    expect(await keys.find("principal:p1", "k1", "2025-01-01T00:00:00.000Z")).toBeUndefined();
  });

  it("sweeps only expired rows", async () => {
    await keys.insert(key({ key: "old", expiresAt: "2025-01-01T10:00:00.000Z" }));
    await keys.insert(key({ key: "edge", expiresAt: "2025-01-01T11:00:00.000Z" }));
    await keys.insert(key({ key: "live", expiresAt: "2025-01-02T00:00:00.000Z" }));
    expect(await keys.sweepExpired("2025-01-01T11:00:00.000Z")).toBe(2);
    const left = await temp.store.db.selectFrom("idempotency_keys").select("key").execute();
    expect(left).toEqual([{ key: "live" }]);
  });

  it("inserts through a given transaction and rolls back with it", async () => {
    await expect(
      temp.store.db.transaction().execute(async (trx) => {
        await keys.insert(key(), trx);
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await keys.find("principal:p1", "k1", "2025-01-01T00:00:00.000Z")).toBeUndefined();
    await temp.store.db.transaction().execute(async (trx) => keys.insert(key(), trx));
    expect(await keys.find("principal:p1", "k1", "2025-01-01T00:00:00.000Z")).toEqual(key());
  });
});
