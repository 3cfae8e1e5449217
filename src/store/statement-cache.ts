// ABOUTME: Wraps a better-sqlite3 connection so Kysely reuses prepared statements instead of re-preparing each query.
// ABOUTME: Kysely's SQLite driver calls prepare() for every execution; the bench showed that cost on every send.
import type SQLite from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/**
 * A `SqliteDatabase` for Kysely's `SqliteDialect` that keeps up to `maxStatements` prepared statements by SQL text
 * (least recently prepared evicted first). better-sqlite3 is synchronous, so a cached statement is never in use by
 * two queries at once; SQLite re-prepares it by itself after a schema change.
 */
export function withStatementCache(sqlite: SQLite.Database, maxStatements = 256): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (sqlText: string): SqliteStatement => {
      const cached = cache.get(sqlText);
      if (cached !== undefined) {
        cache.delete(sqlText);
        cache.set(sqlText, cached);
        return cached;
      }
      const statement = sqlite.prepare(sqlText) as unknown as SqliteStatement;
      cache.set(sqlText, statement);
      if (cache.size > maxStatements) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      return statement;
    },
  };
}
