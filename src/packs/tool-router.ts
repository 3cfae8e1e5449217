// ABOUTME: Routes one tool call to its builtin handler (packs-mcp.md §3) and serves agents' ExecutePackTool (§4).
// ABOUTME: RouterError carries the exact §3 texts; each entry point maps them to its own wire form.
import type { PackToolExecutor, PackToolOutcome } from "../agent/agent-ports.js";
import type { Logger } from "../lib/logger.js";
import { encodeSorted, parseToolInput } from "./tool-input.js";
import { hasCapabilities, type ToolRegistry } from "./tool-registry.js";

/** The closed set of router failures, by their exact §3 text. */
export type RouterFailure =
  | "tool not found"
  | "pack disconnected"
  | "duplicate request ID"
  | "context deadline exceeded"
  | "context canceled"
  | "internal error";

/** A failure of routing itself, as opposed to a tool-level `{error}`. */
export class RouterError extends Error {
  readonly failure: RouterFailure;

  constructor(failure: RouterFailure, options?: { cause?: unknown }) {
    super(failure, options);
    this.name = "RouterError";
    this.failure = failure;
  }
}

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

/** Builds the router over a registry. External packs are not routed yet (issue 7): their tools are `pack disconnected`. */
export function createToolRouter(options: { registry: ToolRegistry; log: Logger }): ToolRouter {
  const { registry, log } = options;
  return {
    async route(toolName, inputJson, _requestId, caller, signal) {
      const tool = registry.get(toolName);
      if (!tool) throw new RouterError("tool not found");
      if (tool.owner.kind !== "builtin") throw new RouterError("pack disconnected");
      try {
        const input = parseToolInput(inputJson);
        const output = await tool.owner.handler(caller, input, signal);
        return { outputJson: encodeSorted(output) };
      } catch (err) {
        if (err instanceof Error) return { error: err.message };
        log.error("builtin tool threw a non-error", { tool: toolName, cause: err });
        return { error: "internal error" };
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
        if (err instanceof RouterError && err.failure !== "internal error") return { error: err.failure };
        log.error("pack tool routing failed", { tool: call.toolName, cause: err });
        return { error: "internal error" };
      }
    },
  };
}
