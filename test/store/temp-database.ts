// ABOUTME: Test helper: opens a real, migrated SQLite file database in a fresh temp directory.
// ABOUTME: Also a controllable clock, so ledger timestamp rules can be driven forwards and backwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/lib/clock.js";
import { silentLogger, type Logger } from "../../src/lib/logger.js";
import { openDatabase, type StoreDatabase } from "../../src/store/database.js";

export interface TempDatabase {
  store: StoreDatabase;
  dir: string;
  /** Closes the database and removes the temp directory. */
  cleanup(): Promise<void>;
}

/** Makes a fresh temp directory (removed by `cleanup`). */
export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), "coven-store-"));
}

/** Opens `<tempdir>/gateway.db` through `openDatabase`, running the real migrations. */
export async function openTempDatabase(log: Logger = silentLogger): Promise<TempDatabase> {
  const dir = makeTempDir();
  const store = await openDatabase({ path: join(dir, "gateway.db"), log });
  return {
    store,
    dir,
    cleanup: async () => {
      try {
        await store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A clock whose time the test sets. */
export interface ManualClock extends Clock {
  set(iso: string): void;
}

export function createManualClock(start: string): ManualClock {
  let current = new Date(start);
  return {
    now: () => new Date(current.getTime()),
    set: (iso) => {
      current = new Date(iso);
    },
  };
}
