// ABOUTME: Tests the tool registry: every §1.2 validation row with its exact message, collisions and normalisation.
// ABOUTME: Also the all-of capability rule, the wildcard and the sorted listings of packs-mcp.md §1.3.
import { describe, expect, it } from "vitest";
import type { ToolDefinition } from "../../src/agent/agent-frames.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { createMemoryLogger, silentLogger } from "../../src/lib/logger.js";
import { ToolRegistry, WILDCARD } from "../../src/packs/tool-registry.js";

const tool = (name: string, over: Partial<ToolDefinition> = {}): ToolDefinition => ({
  name,
  description: `${name} tool`,
  inputSchemaJson: "",
  requiredCapabilities: [],
  timeoutSeconds: 0,
  ...over,
});

function registryWithBuiltin(): ToolRegistry {
  const registry = new ToolRegistry({ log: silentLogger });
  registry.registerBuiltin({
    id: "builtin:base",
    tools: [{ definition: tool("log_entry", { requiredCapabilities: ["base"] }), handler: async () => ({}) }],
  });
  return registry;
}

function rejection(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return { code: (err as GatewayError).code, message: (err as GatewayError).message };
  }
  throw new Error("expected a rejection");
}

describe("ToolRegistry.registerExternal validation (§1.2)", () => {
  it.each([
    ["empty pack_id", { packId: "", version: "1", tools: [tool("a")] }, "INVALID_ARGUMENT", "pack_id is required"],
    ["empty tool name", { packId: "p", version: "1", tools: [tool("a"), tool("")] }, "INVALID_ARGUMENT", "tool name is required"],
    ["duplicate name", { packId: "p", version: "1", tools: [tool("a"), tool("a")] }, "INVALID_ARGUMENT", "duplicate tool name in manifest: a"],
    ["schema not JSON", { packId: "p", version: "1", tools: [tool("a", { inputSchemaJson: "{nope" })] }, "INVALID_ARGUMENT", "invalid input_schema_json for tool 'a'"],
    ["schema an array", { packId: "p", version: "1", tools: [tool("a", { inputSchemaJson: "[]" })] }, "INVALID_ARGUMENT", "invalid input_schema_json for tool 'a'"],
    ["schema type string", { packId: "p", version: "1", tools: [tool("a", { inputSchemaJson: '{"type":"string"}' })] }, "INVALID_ARGUMENT", "invalid input_schema_json for tool 'a'"],
  ])("rejects %s", (_label, manifest, code, message) => {
    const registry = registryWithBuiltin();
    expect(rejection(() => registry.registerExternal(manifest))).toEqual({ code, message });
    expect(registry.listPacks().map((p) => p.id)).toEqual(["builtin:base"]);
  });

  it("checks the rows in order: an empty pack_id wins over a duplicate name", () => {
    const registry = registryWithBuiltin();
    expect(rejection(() => registry.registerExternal({ packId: "", version: "1", tools: [tool("a"), tool("a")] })).message).toBe(
      "pack_id is required",
    );
  });

  it("rejects a pack id that is already registered", () => {
    const registry = registryWithBuiltin();
    registry.registerExternal({ packId: "p", version: "1", tools: [tool("a")] });
    expect(rejection(() => registry.registerExternal({ packId: "p", version: "2", tools: [tool("b")] }))).toEqual({
      code: "ALREADY_EXISTS",
      message: "pack p already registered",
    });
  });

  it("rejects a collision with another external pack without registering any of the manifest", () => {
    const registry = registryWithBuiltin();
    registry.registerExternal({ packId: "first", version: "1", tools: [tool("shared")] });
    expect(rejection(() => registry.registerExternal({ packId: "second", version: "1", tools: [tool("fresh"), tool("shared")] }))).toEqual({
      code: "ALREADY_EXISTS",
      message: "tool collision: tool name collision: tool 'shared' already registered by pack 'first'",
    });
    expect(registry.get("fresh")).toBeUndefined();
    expect(registry.get("shared")?.owner.packId).toBe("first");
  });

  it("rejects a collision with a builtin", () => {
    const registry = registryWithBuiltin();
    expect(rejection(() => registry.registerExternal({ packId: "p", version: "1", tools: [tool("log_entry")] }))).toEqual({
      code: "ALREADY_EXISTS",
      message: "tool collision: tool name collision: tool 'log_entry' already registered as builtin",
    });
  });

  it("normalises empty and typeless schemas and warns on names MCP clients may reject", () => {
    const log = createMemoryLogger();
    const registry = new ToolRegistry({ log });
    const tools = registry.registerExternal({
      packId: "p",
      version: "1",
      tools: [tool("empty"), tool("typeless", { inputSchemaJson: '{"properties":{"x":{"type":"string"}}}' }), tool("has space")],
    });
    expect(tools.map((t) => t.inputSchemaJson)).toEqual([
      '{"type":"object","properties":{}}',
      '{"type":"object","properties":{"x":{"type":"string"}}}',
      '{"type":"object","properties":{}}',
    ]);
    expect(log.entries.filter((e) => e.level === "warn").map((e) => e.attrs.tool)).toEqual(["has space"]);
  });

  it("frees the names of an unregistered pack", () => {
    const registry = registryWithBuiltin();
    registry.registerExternal({ packId: "p", version: "1", tools: [tool("a")] });
    registry.unregisterExternal("p");
    expect(registry.get("a")).toBeUndefined();
    registry.registerExternal({ packId: "q", version: "1", tools: [tool("a")] });
    expect(registry.get("a")?.owner.packId).toBe("q");
  });
});

describe("ToolRegistry queries (§1.3)", () => {
  function populated(): ToolRegistry {
    const registry = registryWithBuiltin();
    registry.registerExternal({
      packId: "zeta",
      version: "2.0.0",
      tools: [
        tool("open", {}),
        tool("needs_ab", { requiredCapabilities: ["a", "b"] }),
        tool("needs_a", { requiredCapabilities: ["a", "a"] }),
      ],
    });
    registry.registerExternal({ packId: "alpha", version: "0.1", tools: [tool("case", { requiredCapabilities: ["A"] })] });
    return registry;
  }

  it("applies the all-of rule, exact and case-sensitive, with empty requirements visible to everyone", () => {
    const registry = populated();
    expect(registry.toolsFor([]).map((t) => t.name)).toEqual(["open"]);
    expect(registry.toolsFor(["a"]).map((t) => t.name)).toEqual(["needs_a", "open"]);
    expect(registry.toolsFor(["b", "a"]).map((t) => t.name)).toEqual(["needs_a", "needs_ab", "open"]);
    expect(registry.toolsFor(["base", "A"]).map((t) => t.name)).toEqual(["case", "log_entry", "open"]);
  });

  it("gives the wildcard every tool, sorted by name", () => {
    expect(populated().toolsFor(WILDCARD).map((t) => t.name)).toEqual(["case", "log_entry", "needs_a", "needs_ab", "open"]);
  });

  it("lists packs by id with tools by name and builtins at version builtin", () => {
    expect(populated().listPacks().map((p) => [p.id, p.version, p.tools.map((t) => t.name)])).toEqual([
      ["alpha", "0.1", ["case"]],
      ["builtin:base", "builtin", ["log_entry"]],
      ["zeta", "2.0.0", ["needs_a", "needs_ab", "open"]],
    ]);
  });
});
