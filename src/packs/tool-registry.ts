// ABOUTME: The tool registry: one global tool-name namespace over builtin and external packs (packs-mcp.md §1).
// ABOUTME: Validates external manifests with the exact §1.2 messages and filters listings by the all-of capability rule.
import type { ToolDefinition } from "../agent/agent-frames.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";

/** The caller's capability set, or the wildcard that sees and may call every tool (§6.3). */
export type CapabilitySet = readonly string[] | "*";

export const WILDCARD = "*" as const;

/** Runs one builtin tool call for a caller identity; throws `Error(message)` for a tool-level failure. */
export type BuiltinHandler = (caller: { agentId: string }, input: Record<string, unknown>, signal: AbortSignal) => Promise<object>;

export interface BuiltinTool {
  definition: ToolDefinition;
  handler: BuiltinHandler;
  /** The input is not parsed at all, so even invalid JSON is accepted (`note_list`, `admin_list_agents`). */
  ignoresInput?: boolean;
}

export interface BuiltinPack {
  /** Starts with `builtin:`. */
  id: string;
  tools: BuiltinTool[];
}

/** An external pack manifest as decoded from `PackManifest`. */
export interface PackManifest {
  packId: string;
  version: string;
  tools: ToolDefinition[];
}

export type ToolOwner =
  | { kind: "builtin"; packId: string; handler: BuiltinHandler; ignoresInput: boolean }
  | { kind: "external"; packId: string };

export interface RegisteredTool {
  definition: ToolDefinition;
  owner: ToolOwner;
}

export interface PackListing {
  id: string;
  version: string;
  isBuiltin: boolean;
  tools: ToolDefinition[];
}

const DEFAULT_SCHEMA = '{"type":"object","properties":{}}';
const MCP_NAME_RE = /^[A-Za-z0-9._-]{1,128}$/;

/** True when `caps` holds every string of `required` (exact, case-sensitive), or is the wildcard. */
export function hasCapabilities(caps: CapabilitySet, required: readonly string[]): boolean {
  if (caps === WILDCARD) return true;
  const held = new Set(caps);
  return required.every((c) => held.has(c));
}

const byName = (a: ToolDefinition, b: ToolDefinition) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * One namespace of tool names. Builtin packs are registered once at start and never removed; external packs are
 * present exactly while their owner keeps them registered.
 */
export class ToolRegistry {
  #tools = new Map<string, RegisteredTool>();
  #packs = new Map<string, PackListing>();
  #log: Logger;

  constructor(options: { log: Logger }) {
    this.#log = options.log;
  }

  /** Adds a builtin pack. A name clash between builtins is a programming error and throws INTERNAL. */
  registerBuiltin(pack: BuiltinPack): void {
    if (this.#packs.has(pack.id)) throw new GatewayError("INTERNAL", `builtin pack ${pack.id} registered twice`);
    for (const tool of pack.tools) {
      if (this.#tools.has(tool.definition.name)) {
        throw new GatewayError("INTERNAL", `builtin tool ${tool.definition.name} registered twice`);
      }
    }
    for (const tool of pack.tools) {
      this.#tools.set(tool.definition.name, {
        definition: tool.definition,
        owner: { kind: "builtin", packId: pack.id, handler: tool.handler, ignoresInput: tool.ignoresInput === true },
      });
    }
    this.#packs.set(pack.id, { id: pack.id, version: "builtin", isBuiltin: true, tools: pack.tools.map((t) => t.definition) });
  }

  /**
   * Validates and inserts an external manifest (§1.2), all in one synchronous step so racing packs cannot both
   * win a name. Throws INVALID_ARGUMENT or ALREADY_EXISTS with the spec's exact messages; never registers partially.
   * Returns the normalised tool definitions.
   */
  registerExternal(manifest: PackManifest): ToolDefinition[] {
    if (manifest.packId === "") throw new GatewayError("INVALID_ARGUMENT", "pack_id is required");
    for (const tool of manifest.tools) {
      if (tool.name === "") throw new GatewayError("INVALID_ARGUMENT", "tool name is required");
    }
    const seen = new Set<string>();
    for (const tool of manifest.tools) {
      if (seen.has(tool.name)) throw new GatewayError("INVALID_ARGUMENT", `duplicate tool name in manifest: ${tool.name}`);
      seen.add(tool.name);
    }
    const normalised = manifest.tools.map((tool) => ({
      ...tool,
      inputSchemaJson: normaliseSchema(tool),
      requiredCapabilities: [...tool.requiredCapabilities],
    }));
    if (this.#packs.has(manifest.packId)) {
      throw new GatewayError("ALREADY_EXISTS", `pack ${manifest.packId} already registered`);
    }
    for (const tool of normalised) {
      const holder = this.#tools.get(tool.name);
      if (holder?.owner.kind === "external") {
        throw new GatewayError(
          "ALREADY_EXISTS",
          `tool collision: tool name collision: tool '${tool.name}' already registered by pack '${holder.owner.packId}'`,
        );
      }
    }
    for (const tool of normalised) {
      if (this.#tools.get(tool.name)?.owner.kind === "builtin") {
        throw new GatewayError("ALREADY_EXISTS", `tool collision: tool name collision: tool '${tool.name}' already registered as builtin`);
      }
    }
    for (const tool of normalised) {
      if (!MCP_NAME_RE.test(tool.name)) {
        this.#log.warn("tool name may be rejected by MCP clients", { pack_id: manifest.packId, tool: tool.name });
      }
      this.#tools.set(tool.name, { definition: tool, owner: { kind: "external", packId: manifest.packId } });
    }
    this.#packs.set(manifest.packId, { id: manifest.packId, version: manifest.version, isBuiltin: false, tools: normalised });
    return normalised;
  }

  /** Removes an external pack and its tools; builtin packs and unknown ids are left alone. */
  unregisterExternal(packId: string): void {
    const pack = this.#packs.get(packId);
    if (!pack || pack.isBuiltin) return;
    for (const tool of pack.tools) this.#tools.delete(tool.name);
    this.#packs.delete(packId);
  }

  /** Every tool the capability set may see (§0 all-of rule), sorted by name. */
  toolsFor(capabilities: CapabilitySet): ToolDefinition[] {
    const out: ToolDefinition[] = [];
    for (const { definition } of this.#tools.values()) {
      if (hasCapabilities(capabilities, definition.requiredCapabilities)) out.push(definition);
    }
    return out.sort(byName);
  }

  /** The tool of that name and its owner, or undefined. */
  get(name: string): RegisteredTool | undefined {
    return this.#tools.get(name);
  }

  /** Packs sorted by id, each with its tools sorted by name; builtins carry version "builtin". */
  listPacks(): PackListing[] {
    return [...this.#packs.values()]
      .map((p) => ({ ...p, tools: [...p.tools].sort(byName) }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

function normaliseSchema(tool: ToolDefinition): string {
  if (tool.inputSchemaJson === "") return DEFAULT_SCHEMA;
  let parsed: unknown;
  try {
    parsed = JSON.parse(tool.inputSchemaJson);
  } catch (err) {
    throw new GatewayError("INVALID_ARGUMENT", `invalid input_schema_json for tool '${tool.name}'`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new GatewayError("INVALID_ARGUMENT", `invalid input_schema_json for tool '${tool.name}'`);
  }
  const schema = parsed as Record<string, unknown>;
  if (!("type" in schema)) return JSON.stringify({ type: "object", ...schema });
  if (schema.type !== "object") throw new GatewayError("INVALID_ARGUMENT", `invalid input_schema_json for tool '${tool.name}'`);
  return tool.inputSchemaJson;
}
