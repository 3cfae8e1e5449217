// ABOUTME: Registers the five builtin packs in the order packs-mcp.md §1.1 fixes: base, admin, mail, notes, ui.
// ABOUTME: The store-backed packs need only the database; admin and ui take the domain services they drive.
import type { Kysely } from "kysely";
import type { Clock } from "../../lib/clock.js";
import type { IdSource } from "../../lib/ids.js";
import type { Database } from "../../store/schema.js";
import type { BuiltinPack, ToolRegistry } from "../tool-registry.js";
import { createAdminPack, type AdminPackOptions } from "./admin-pack.js";
import { createBasePack } from "./base-pack.js";
import { createMailPack } from "./mail-pack.js";
import { createNotesPack } from "./notes-pack.js";
import { createUiPack, type UiPackOptions } from "./ui-pack.js";

export interface BuiltinPackDeps extends AdminPackOptions, UiPackOptions {
  db: Kysely<Database>;
  clock: Clock;
  ids: IdSource;
}

/** The builtin packs in registration order. */
export function createBuiltinPacks(deps: BuiltinPackDeps): BuiltinPack[] {
  return [createBasePack(deps), createAdminPack(deps), createMailPack(deps), createNotesPack(deps), createUiPack(deps)];
}

/** Registers every builtin pack into the registry, in order. */
export function registerBuiltinPacks(registry: ToolRegistry, deps: BuiltinPackDeps): void {
  for (const pack of createBuiltinPacks(deps)) registry.registerBuiltin(pack);
}
