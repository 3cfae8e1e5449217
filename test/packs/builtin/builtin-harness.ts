// ABOUTME: A router over one builtin pack and a real migrated temp SQLite store, with a manual clock and counted ids.
// ABOUTME: Shared by the store-backed builtin pack tests so each reads as input -> exact output.
import type { Kysely } from "kysely";
import type { Clock } from "../../../src/lib/clock.js";
import type { IdSource } from "../../../src/lib/ids.js";
import { silentLogger } from "../../../src/lib/logger.js";
import type { Database } from "../../../src/store/schema.js";
import { ToolRegistry, type BuiltinPack } from "../../../src/packs/tool-registry.js";
import { createToolRouter } from "../../../src/packs/tool-router.js";
import { createManualClock, openTempDatabase, type ManualClock, type TempDatabase } from "../../store/temp-database.js";

export interface BuiltinHarness {
  call(agentId: string, tool: string, input?: unknown): Promise<{ outputJson: string } | { error: string }>;
  clock: ManualClock;
  registry: ToolRegistry;
  db: Kysely<Database>;
}

/** Opens a temp store and registers the pack `build` returns; push `cleanup` onto the test's teardown list. */
export async function builtinHarness(
  build: (deps: { db: Kysely<Database>; clock: Clock; ids: IdSource }) => BuiltinPack,
  open: TempDatabase[],
): Promise<BuiltinHarness> {
  const temp = await openTempDatabase();
  open.push(temp);
  const clock = createManualClock("2026-03-14T09:01:11.123Z");
  let n = 0;
  const ids = { uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}` };
  const registry = new ToolRegistry({ log: silentLogger });
  registry.registerBuiltin(build({ db: temp.store.db, clock, ids }));
  const router = createToolRouter({ registry, log: silentLogger });
  const call = (agentId: string, tool: string, input: unknown = "") =>
    router.route(tool, typeof input === "string" ? input : JSON.stringify(input), "req", { agentId }, new AbortController().signal);
  return { call, clock, registry, db: temp.store.db };
}
