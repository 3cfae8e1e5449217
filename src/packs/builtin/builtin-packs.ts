// ABOUTME: Registers the builtin packs in the order packs-mcp.md §1.1 fixes, over the store.
// ABOUTME: Only `builtin:base` exists so far; the rest of the order is kept here as they land (issue 7).
import type { Kysely } from "kysely";
import type { Clock } from "../../lib/clock.js";
import type { IdSource } from "../../lib/ids.js";
import type { Database } from "../../store/schema.js";
import type { BuiltinPack, ToolRegistry } from "../tool-registry.js";
import { createBasePack } from "./base-pack.js";

export interface BuiltinPackDeps {
  db: Kysely<Database>;
  clock: Clock;
  ids: IdSource;
}

/** The builtin packs in registration order: base, admin, mail, notes, ui (those built so far). */
export function createBuiltinPacks(deps: BuiltinPackDeps): BuiltinPack[] {
  return [createBasePack(deps)];
}

/** Registers every builtin pack into the registry, in order. */
export function registerBuiltinPacks(registry: ToolRegistry, deps: BuiltinPackDeps): void {
  for (const pack of createBuiltinPacks(deps)) registry.registerBuiltin(pack);
}
