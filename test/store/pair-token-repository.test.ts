// ABOUTME: Tests the pair-token repository on a real migrated SQLite file: insert, lookup by hash, the guarded
// ABOUTME: single-use claim under concurrency, recording the principal, and deleting expired rows.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPairTokenRepository, type PairTokenRepository } from "../../src/store/pair-token-repository.js";
import type { StoreExecutor } from "../../src/store/transaction.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

const T0 = "2026-01-01T00:00:00.000Z";
const T5 = "2026-01-01T00:05:00.000Z";
let temp: TempDatabase;
let db: StoreExecutor;
let tokens: PairTokenRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  db = temp.store.db;
  tokens = createPairTokenRepository(db);
  await db.insertInto("admin_users").values({ id: "admin-1", username: "admin", password_hash: null, display_name: "A", created_at: T0 }).execute();
});
afterEach(async () => {
  await temp.cleanup();
});

const hash = (c: string) => c.repeat(64);

describe("PairTokenRepository", () => {
  it("inserts an unused token and finds it by hash only", async () => {
    const created = await tokens.insert({ id: "pt-1", tokenHash: hash("a"), createdBy: "admin-1", createdAt: T0, expiresAt: T5 });
    expect(created).toEqual({ id: "pt-1", tokenHash: hash("a"), createdBy: "admin-1", createdAt: T0, expiresAt: T5, usedAt: undefined, principalId: undefined });
    expect(await tokens.findByHash(hash("a"))).toEqual(created);
    expect(await tokens.findByHash(hash("b"))).toBeUndefined();
  });

  it("lets exactly one of 20 concurrent claims win", async () => {
    await tokens.insert({ id: "pt-1", tokenHash: hash("a"), createdBy: "admin-1", createdAt: T0, expiresAt: T5 });
    const wins = await Promise.all(Array.from({ length: 20 }, () => createPairTokenRepository(db).claim("pt-1", T0)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await tokens.findByHash(hash("a")))?.usedAt).toBe(T0);
    expect(await tokens.claim("pt-1", T5)).toBe(false);
    expect((await tokens.findByHash(hash("a")))?.usedAt).toBe(T0);
  });

  it("records the enrolled principal, cleared again when the principal is deleted", async () => {
    await tokens.insert({ id: "pt-1", tokenHash: hash("a"), createdBy: "admin-1", createdAt: T0, expiresAt: T5 });
    await db.insertInto("principals").values({ principal_id: "p-1", type: "client", pubkey_fingerprint: null, display_name: "d", status: "approved", created_at: T0, last_seen: null, metadata_json: null }).execute();
    await tokens.setPrincipal("pt-1", "p-1");
    expect((await tokens.findByHash(hash("a")))?.principalId).toBe("p-1");
    await db.deleteFrom("principals").where("principal_id", "=", "p-1").execute();
    expect((await tokens.findByHash(hash("a")))?.principalId).toBeUndefined();
  });

  it("deletes tokens whose expires_at is at or before now, used or not", async () => {
    await tokens.insert({ id: "old", tokenHash: hash("a"), createdBy: "admin-1", createdAt: T0, expiresAt: T0 });
    await tokens.insert({ id: "used", tokenHash: hash("b"), createdBy: "admin-1", createdAt: T0, expiresAt: T0 });
    await tokens.claim("used", T0);
    await tokens.insert({ id: "live", tokenHash: hash("c"), createdBy: "admin-1", createdAt: T0, expiresAt: T5 });
    expect(await tokens.deleteExpired(T0)).toBe(2);
    const left = await db.selectFrom("pair_tokens").select("id").execute();
    expect(left).toEqual([{ id: "live" }]);
  });
});
