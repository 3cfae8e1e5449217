// ABOUTME: Routes one tool call to its builtin handler or external pack (packs-mcp.md §3); serves agents' ExecutePackTool (§4).
// ABOUTME: RouterError carries the exact §3 texts; each entry point maps them to its own wire form.
import type { PackToolExecutor, PackToolOutcome } from "../agent/agent-ports.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import { DEFAULT_PACK_TOOL_TIMEOUT_MS, ExternalPacks } from "./external-packs.js";
import { RouterError } from "./router-error.js";
import { ToolError } from "./tool-error.js";
import { encodeSorted, parseToolInput } from "./tool-input.js";
import { hasCapabilities, type ToolRegistry } from "./tool-registry.js";

export { RouterError, type RouterFailure } from "./router-error.js";

export const INSUFFICIENT_CAPABILITIES = "insufficient capabilities for this tool";

export interface ToolCaller {
  /** The identity builtins scope by: connection agent_id, MCP identity, or `anonymous`. */
  agentId: string;
}

export interface ToolRouter {
  /**
   * Runs one call. Resolves `{outputJson}` or a tool-level `{error}`; throws RouterError for routing failures.
   * The capability check is the entry point's job and happens before this.
   */
  route(toolName: string, inputJson: string, requestId: string, caller: ToolCaller, signal: AbortSignal): Promise<PackToolOutcome>;
}

/**
 * Builds the router: builtins run in process with no timeout; external tools go to their live pack with the tool's
 * `timeout_seconds` (or `defaultTimeoutMs`, 30 s) counted from acceptance.
 */
export function createToolRouter(options: {
  registry: ToolRegistry;
  /** The live external packs; absent means none can register (unit tests of builtins). */
  externals?: ExternalPacks;
  log: Logger;
  defaultTimeoutMs?: number;
}): ToolRouter {
  const { registry, log } = options;
  const externals = options.externals ?? new ExternalPacks({ registry, log });
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_PACK_TOOL_TIMEOUT_MS;
  return {
    async route(toolName, inputJson, requestId, caller, signal) {
      const tool = registry.get(toolName);
      if (!tool) throw new RouterError("tool not found");
      if (tool.owner.kind === "external") {
        const seconds = tool.definition.timeoutSeconds;
        return externals.call({
          packId: tool.owner.packId,
          toolName,
          inputJson,
          requestId,
          timeoutMs: seconds > 0 ? seconds * 1000 : defaultTimeoutMs,
          signal,
        });
      }
      try {
        const input = tool.owner.ignoresInput ? {} : parseToolInput(inputJson);
        const output = await tool.owner.handler(caller, input, signal);
        return { outputJson: encodeSorted(output) };
      } catch (err) {
        // Expected failures carry their text to the caller; anything else (a failed query, a bug) is redacted to
        // `internal error` (MCP: -32603 `tool execution failed`) and logged with its cause here, once.
        if (err instanceof ToolError) return { error: err.message };
        if (err instanceof GatewayError && err.code !== "INTERNAL") return { error: err.message };
        log.error("builtin tool failed", { tool: toolName, cause: err });
        throw new RouterError("internal error");
      }
    },
  };
}

/** The agent-side entry point (§4): capability check, then routing, with RouterErrors as `error` texts. */
export function createAgentPackTools(options: { registry: ToolRegistry; router: ToolRouter; log: Logger }): PackToolExecutor {
  const { registry, router, log } = options;
  return {
    async execute(call, signal) {
      const tool = registry.get(call.toolName);
      if (!tool) return { error: "tool not found" };
      if (!hasCapabilities(call.capabilities, tool.definition.requiredCapabilities)) return { error: INSUFFICIENT_CAPABILITIES };
      try {
        return await router.route(call.toolName, call.inputJson, call.requestId, { agentId: call.agentId }, signal);
      } catch (err) {
        // The router logged an internal failure where it happened; only an unexpected throw is logged here.
        if (err instanceof RouterError) return { error: err.failure };
        log.error("pack tool routing failed", { tool: call.toolName, cause: err });
        return { error: "internal error" };
      }
    },
  };
}
