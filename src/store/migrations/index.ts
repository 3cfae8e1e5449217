// ABOUTME: The static migration provider: every numbered migration, registered in numeric order.
// ABOUTME: No filesystem scanning, so migrations run the same from src/ (vitest) and from dist/.
import type { Migration, MigrationProvider } from "kysely";
import * as m0001 from "./0001-initial-schema.js";
import * as m0002 from "./0002-ledger-thread-touch.js";
import * as m0003 from "./0003-ops-costs-settings.js";
import * as m0004 from "./0004-pair-tokens.js";

/** Migrations keyed by file name without extension; Kysely runs them in name order. */
const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  "0001-initial-schema": m0001,
  "0002-ledger-thread-touch": m0002,
  "0003-ops-costs-settings": m0003,
  "0004-pair-tokens": m0004,
});

/** A `MigrationProvider` over the statically imported migrations. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
