// ABOUTME: Recognises SQLite constraint failures raised by better-sqlite3 through Kysely.
// ABOUTME: Repositories use it to turn a lost insert race into `undefined` instead of pre-checking.

/** The better-sqlite3 error code of `err`, if it has one (e.g. `SQLITE_CONSTRAINT_UNIQUE`). */
function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** True when `err` is a UNIQUE or PRIMARY KEY violation (not CHECK, NOT NULL or FOREIGN KEY). */
export function isUniqueViolation(err: unknown): boolean {
  const code = sqliteCode(err);
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
