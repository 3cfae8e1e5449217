// ABOUTME: The jailed shell pack's definition: pack id `shell`, capability `shell`, one tool `shell_exec`.
// ABOUTME: Validates input and confines cwd; the sandbox itself is shell-exec.ts.
import type { PackDefinition } from "../../sdk/index.js";
import { confinedCwd, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, runSandboxed, type SandboxOptions } from "./shell-exec.js";

/** The pack over a prepared sandbox. `shell_exec` answers `{duration_ms, exit_code, stderr, stdout, truncated}`. */
export function shellPack(sandbox: SandboxOptions): PackDefinition {
  return {
    packId: "shell",
    version: "1.0.0",
    tools: [
      {
        name: "shell_exec",
        description: "Run a shell command in a sandbox confined to the workspace directory (no network unless enabled)",
        inputSchema: {
          type: "object",
          properties: {
            command: { type: "string" },
            cwd: { type: "string", description: "Directory inside the workspace (default: the workspace)" },
            timeout_ms: { type: "integer", description: "Wall timeout (default 30000, max 300000)" },
          },
          required: ["command"],
        },
        requiredCapabilities: ["shell"],
        // Above the 300 s wall maximum, so the pack's own kill answers before the gateway's timeout.
        timeoutSeconds: MAX_TIMEOUT_MS / 1000 + 10,
        handler: async (input) => {
          const command = typeof input.command === "string" ? input.command : "";
          if (command === "") throw new Error("command is required");
          if (input.cwd !== undefined && input.cwd !== null && typeof input.cwd !== "string") throw new Error("cwd must be a string");
          if (input.timeout_ms !== undefined && input.timeout_ms !== null && !Number.isInteger(input.timeout_ms)) {
            throw new Error("timeout_ms must be an integer");
          }
          const cwd = confinedCwd(sandbox.workspace, (input.cwd as string | undefined) ?? undefined);
          const requested = typeof input.timeout_ms === "number" && input.timeout_ms > 0 ? input.timeout_ms : DEFAULT_TIMEOUT_MS;
          return runSandboxed(sandbox, command, cwd, Math.min(requested, MAX_TIMEOUT_MS));
        },
      },
    ],
  };
}
