// ABOUTME: The settings table (migration 0003): small gateway-wide state that survives restarts, one JSON value per key.
// ABOUTME: Build it over the caller's transaction so a change commits with its audit row.
import type { StoreExecutor } from "./transaction.js";

export interface SettingsRepository {
  /** The parsed value of `key`, or undefined when it was never written. */
  get(key: string): Promise<unknown>;
  /** Inserts or replaces `key`. */
  put(key: string, value: unknown, now: string): Promise<void>;
}

/** Creates the repository over `db` (the database or a transaction). Throws only driver and JSON errors. */
export function createSettingsRepository(db: StoreExecutor): SettingsRepository {
  return {
    async get(key) {
      const row = await db.selectFrom("settings").select("value_json").where("key", "=", key).executeTakeFirst();
      return row === undefined ? undefined : (JSON.parse(row.value_json) as unknown);
    },
    async put(key, value, now) {
      const valueJson = JSON.stringify(value);
      await db
        .insertInto("settings")
        .values({ key, value_json: valueJson, updated_at: now })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value_json: valueJson, updated_at: now }))
        .execute();
    },
  };
}
