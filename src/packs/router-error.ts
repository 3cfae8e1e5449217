// ABOUTME: The router's own failures (packs-mcp.md §3), by their exact text, shared by the router and external packs.
// ABOUTME: Each entry point maps these to its wire form: PackToolResult.error for agents, JSON-RPC errors for MCP.

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
