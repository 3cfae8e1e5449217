// ABOUTME: Tests the store's group commit: units of one event-loop turn share a transaction, settle after COMMIT,
// ABOUTME: fail alone, keep queue order, and never run inside (or roll back with) an open Kysely transaction.
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WriteContext } from "../../src/store/write-batcher.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let reader: SQLite.Database;

beforeEach(async () => {
  temp = await openTempDatabase();
  // A second connection sees only committed rows.
  reader = new SQLite(join(temp.dir, "gateway.db"), { readonly: true });
});

afterEach(async () => {
  reader.close();
  await temp.cleanup();
});

const T = "2025-01-01T00:00:00.000Z";

function insertThread(ctx: WriteContext, id: string): string {
  ctx.statement("INSERT INTO threads (id, frontend_name, external_id, agent_id, created_at, updated_at) VALUES (?, 'direct', ?, 'a', ?, ?)").run(id, id, T, T);
  return id;
}

function committed(): string[] {
  return (reader.prepare("SELECT id FROM threads ORDER BY rowid").all() as Array<{ id: string }>).map((r) => r.id);
}

describe("WriteBatcher", () => {
  it("runs the units queued in one event-loop turn in one transaction and settles them after its COMMIT", async () => {
    const seenByOthers: string[][] = [];
    const a = temp.store.writes.run((ctx) => insertThread(ctx, "t1"));
    const b = temp.store.writes.run((ctx) => {
      // t1 is written but not committed yet: the two units share the transaction.
      seenByOthers.push(committed());
      return insertThread(ctx, "t2");
    });
    const firstSettled = await Promise.race([a.then(() => committed()), b.then(() => committed())]);
    expect(seenByOthers).toEqual([[]]);
    expect(firstSettled).toEqual(["t1", "t2"]);
    expect(await Promise.all([a, b])).toEqual(["t1", "t2"]);
  });

  it("fails exactly the unit that threw; the others of its batch commit, in queue order", async () => {
    const a = temp.store.writes.run((ctx) => insertThread(ctx, "t1"));
    const b = temp.store.writes.run((ctx) => {
      insertThread(ctx, "t-partial");
      throw new Error("unit failed");
    });
    const c = temp.store.writes.run((ctx) => insertThread(ctx, "t1")); // a primary-key violation
    const d = temp.store.writes.run((ctx) => insertThread(ctx, "t3"));
    const results = await Promise.allSettled([a, b, c, d]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/unit failed/);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/UNIQUE|PRIMARY/);
    expect(committed()).toEqual(["t1", "t3"]);
  });

  it("waits for an open Kysely transaction instead of writing into it, and commits after its rollback", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let unitSettled = false;
    const transaction = temp.store.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("threads")
        .values({ id: "t-rolled-back", frontend_name: "direct", external_id: "x", agent_id: "a", created_at: T, updated_at: T })
        .execute();
      void temp.store.writes.run((ctx) => insertThread(ctx, "t-batched")).then(() => (unitSettled = true));
      for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unitSettled).toBe(false);
      await held;
      throw new Error("roll back");
    });
    release();
    await expect(transaction).rejects.toThrow("roll back");
    await temp.store.writes.flush();
    expect(unitSettled).toBe(true);
    expect(committed()).toEqual(["t-batched"]);
  });

  it("commits what is queued before the store closes", async () => {
    const pending = temp.store.writes.run((ctx) => insertThread(ctx, "t-last"));
    await temp.store.close();
    await expect(pending).resolves.toBe("t-last");
    expect(committed()).toEqual(["t-last"]);
  });
});
