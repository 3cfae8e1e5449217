// ABOUTME: The real packs/shell process against a whole gateway: shell_exec only for agents declaring `shell`, run in
// ABOUTME: the workspace; without SHELL_PACK_WORKSPACE the pack refuses to start. Skipped with the reason without bwrap.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { findBwrap, sandboxUnavailableReason } from "../../packs/shell/src/shell-exec.js";
import { startTestGateway } from "../support/gateway-harness.js";
import { covenControlClient, ThirdPartyAgentStream } from "../support/proto-client.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ENTRY = `${ROOT}packs/shell/dist/index.js`;
const unavailable = sandboxUnavailableReason(findBwrap(process.env));

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe.skipIf(unavailable !== undefined)(`packs/shell as a process${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  beforeAll(() => {
    const built = spawnSync("npm", ["--prefix", `${ROOT}packs/shell`, "run", "build"], { encoding: "utf8" });
    if (built.status !== 0) throw new Error(`building the shell pack failed: ${built.stderr}`);
  });

  function startShellPack(env: Record<string, string>) {
    const child = spawn(process.execPath, [ENTRY], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let output = "";
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    });
    return { exited, output: () => output };
  }

  it("refuses to start without a workspace, saying which variable is missing", async () => {
    const pack = startShellPack({ COVEN_GATEWAY_GRPC: "127.0.0.1:1" });
    expect(await pack.exited).toBe(1);
    expect(pack.output()).toContain("SHELL_PACK_WORKSPACE is required");
  });

  it("runs shell_exec for an agent declaring `shell`, in the workspace, and refuses agents that do not", async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    const root = mkdtempSync(join(tmpdir(), "shell-process-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const workspace = join(root, "ws");
    const pack = startShellPack({ COVEN_GATEWAY_GRPC: gw.grpcAddr, SHELL_PACK_WORKSPACE: workspace });
    await expect.poll(() => pack.output(), { timeout: 10_000 }).toContain("registered shell (1 tools)");
    const control = covenControlClient(gw.grpcAddr);
    cleanups.push(() => control.close());
    const open = async (id: string, capabilities: string[]) => {
      const agent = new ThirdPartyAgentStream(control);
      agent.call.on("error", () => {});
      cleanups.push(() => agent.cancel());
      agent.register(id, { capabilities });
      const welcome = (await agent.next("welcome")).welcome as { available_tools: Array<{ name: string }> };
      return { agent, tools: welcome.available_tools.map((t) => t.name) };
    };
    const call = async (agent: ThirdPartyAgentStream, id: string, input: unknown) => {
      agent.send({ execute_pack_tool: { request_id: id, tool_name: "shell_exec", input_json: JSON.stringify(input) } });
      return (await agent.next("pack_tool_result", (f) => (f.pack_tool_result as { request_id: string }).request_id === id, 15_000))
        .pack_tool_result as { output_json?: string; error?: string };
    };
    const shell = await open("sheller", ["shell"]);
    expect(shell.tools).toContain("shell_exec");
    const ran = await call(shell.agent, "r1", { command: "pwd; echo hi > f.txt; cat f.txt" });
    const result = JSON.parse(ran.output_json!) as Record<string, unknown>;
    expect(Object.keys(result)).toEqual(["duration_ms", "exit_code", "stderr", "stdout", "truncated"]);
    expect(result).toMatchObject({ exit_code: 0, stdout: `${workspace}\nhi\n`, truncated: false });
    expect((await call(shell.agent, "r2", {})).error).toBe("command is required");
    const plain = await open("plain", ["chat"]);
    expect(plain.tools).not.toContain("shell_exec");
    expect((await call(plain.agent, "r3", { command: "true" })).error).toBe("insufficient capabilities for this tool");
  });
});
