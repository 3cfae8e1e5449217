// ABOUTME: The prepared-statement cache handed to Kysely: statements are reused by SQL text and bounded in number.
// ABOUTME: Runs against a real better-sqlite3 connection.
import { afterEach, describe, expect, it } from "vitest";
import SQLite from "better-sqlite3";
import { withStatementCache } from "../../src/store/statement-cache.js";

const open: SQLite.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});

function connection(): SQLite.Database {
  const db = new SQLite(":memory:");
  open.push(db);
  db.exec("create table t (x integer)");
  return db;
}

describe("withStatementCache", () => {
  it("returns the same prepared statement for the same SQL text", () => {
    const cached = withStatementCache(connection());
    const first = cached.prepare("insert into t (x) values (?)");
    expect(cached.prepare("insert into t (x) values (?)")).toBe(first);
    expect(cached.prepare("select x from t")).not.toBe(first);
  });

  it("keeps working statements across reuse", () => {
    const cached = withStatementCache(connection());
    for (let i = 0; i < 3; i++) cached.prepare("insert into t (x) values (?)").run([i]);
    expect(cached.prepare("select count(*) as n from t").all([])).toEqual([{ n: 3 }]);
  });

  it("evicts the least recently used statement beyond its bound", () => {
    const cached = withStatementCache(connection(), 2);
    const a = cached.prepare("select 1");
    cached.prepare("select 2");
    expect(cached.prepare("select 1")).toBe(a);
    cached.prepare("select 3");
    expect(cached.prepare("select 1")).toBe(a);
    const b2 = cached.prepare("select 2");
    expect(cached.prepare("select 2")).toBe(b2);
  });

  it("closes the underlying connection", () => {
    const db = connection();
    withStatementCache(db).close();
    expect(db.open).toBe(false);
  });
});
