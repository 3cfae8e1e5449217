// ABOUTME: Builders for builtin tool definitions and their advertised input schemas (packs-mcp.md §5.0).
// ABOUTME: Compact JSON, properties in list order, `required` only when some field is required.
import type { ToolDefinition } from "../../agent/agent-frames.js";

/** A builtin tool definition requiring one capability; the router applies no timeout to builtins. */
export function builtinTool(capability: string, name: string, description: string, schema: object, timeoutSeconds = 0): ToolDefinition {
  return { name, description, inputSchemaJson: JSON.stringify(schema), requiredCapabilities: [capability], timeoutSeconds };
}

/** `{"type":"object","properties":…,"required":[…]}`, leaving `required` out when empty. */
export const obj = (properties: object, required: string[] = []) =>
  required.length > 0 ? { type: "object", properties, required } : { type: "object", properties };

export const str = { type: "string" };
export const int = { type: "integer" };
export const bool = { type: "boolean" };
export const dateTime = { type: "string", format: "date-time" };

/** A property with a schema description. */
export const described = (schema: object, description: string) => ({ ...schema, description });
