// ABOUTME: ToolError: a builtin tool's expected failure (bad input, not found), whose text the caller sees as is.
// ABOUTME: Anything else a builtin throws is internal: the router logs its cause and answers `internal error`.

/** An expected tool failure with a caller-facing message (packs-mcp.md §5: the exact texts). */
export class ToolError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ToolError";
  }
}
