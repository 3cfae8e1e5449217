// ABOUTME: Migration 0002: a trigger keeps threads.updated_at equal to the timestamp of the thread's newest event.
// ABOUTME: Appending a ledger event becomes one INSERT statement instead of a transaction of four.
import { sql, type Kysely } from "kysely";

/** Creates the trigger that moves `threads.updated_at` with every ledger event appended to the thread. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TRIGGER ledger_events_touch_thread
    AFTER INSERT ON ledger_events
    WHEN NEW.thread_id IS NOT NULL
    BEGIN
      UPDATE threads SET updated_at = NEW.timestamp WHERE id = NEW.thread_id;
    END
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS ledger_events_touch_thread`.execute(db);
}
