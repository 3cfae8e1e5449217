// ABOUTME: The jailed shell pack's sandbox with the real bwrap: no writes outside the workspace, no host loopback,
// ABOUTME: the timeout kills the whole tree, output is capped and flagged; skipped with the reason when bwrap cannot run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { confinedCwd, findBwrap, prepareWorkspace, runSandboxed, sandboxUnavailableReason, type SandboxOptions } from "../../packs/shell/src/shell-exec.js";
import { shellPack } from "../../packs/shell/src/shell-pack.js";

const bwrapPath = findBwrap(process.env);
const unavailable = sandboxUnavailableReason(bwrapPath);
if (unavailable !== undefined) console.warn(`shell sandbox tests skipped: ${unavailable}`);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** The first of the checkout and the home directory that is not under the host's temp directory. */
function outsideTmpBase(): string {
  const isUnderTmp = (dir: string) => !relative(tmpdir(), dir).startsWith("..");
  return [process.cwd(), homedir()].find((dir) => !isUnderTmp(dir)) ?? process.cwd();
}

function sandbox(overrides: Partial<SandboxOptions> = {}): { options: SandboxOptions; root: string } {
  const root = mkdtempSync(join(tmpdir(), "shell-pack-"));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const workspace = prepareWorkspace(join(root, "workspace"));
  return {
    root,
    options: { workspace, allowNetwork: false, bwrapPath: bwrapPath as string, cpuSeconds: 30, memoryKiB: 1024 * 1024, ...overrides },
  };
}

describe.skipIf(unavailable !== undefined)(`shell pack sandbox${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  it("runs in the workspace, writes there, and cannot write anywhere else on the host", async () => {
    const { options } = sandbox();
    // A host directory outside /tmp (the sandbox's /tmp is a private tmpfs, where the write would fail for another
    // reason): the checkout, unless it is itself under /tmp (a CI clone), else the home directory.
    const outside = mkdtempSync(join(outsideTmpBase(), ".tmp-shell-outside-"));
    cleanups.push(() => rmSync(outside, { recursive: true, force: true }));
    const result = await runSandboxed(options, `pwd; echo inside > made.txt; echo nope > ${outside}/escape.txt; echo "rc=$?"`, options.workspace, 10_000);
    expect(result.stdout).toMatch(new RegExp(`^${options.workspace}\nrc=[1-9]\n$`));
    expect(result.stderr).toMatch(/Read-only file system/);
    expect(readFileSync(join(options.workspace, "made.txt"), "utf8")).toBe("inside\n");
    expect(existsSync(join(outside, "escape.txt"))).toBe(false);
    const tmp = await runSandboxed(options, "echo gone > /tmp/host-visible && cat /tmp/host-visible", options.workspace, 10_000);
    expect(tmp.stdout).toBe("gone\n");
    expect(existsSync("/tmp/host-visible")).toBe(false);
  });

  it("cannot reach a TCP port listening on the host's loopback, unless network is enabled", async () => {
    let accepted = 0;
    const server: Server = createServer((socket) => {
      accepted += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as { port: number }).port;
    const probe = `bash -c 'echo hi > /dev/tcp/127.0.0.1/${port}' && echo CONNECTED || echo REFUSED`;
    const jailedBox = sandbox().options;
    const jailed = await runSandboxed(jailedBox, probe, jailedBox.workspace, 10_000);
    expect(jailed.stdout).toBe("REFUSED\n");
    expect(accepted).toBe(0);
    const { options } = sandbox({ allowNetwork: true });
    const open = await runSandboxed(options, probe, options.workspace, 10_000);
    expect(open.stdout).toBe("CONNECTED\n");
  });

  it("kills the command and its children at the wall timeout", async () => {
    const { options } = sandbox();
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}`;
    const started = Date.now();
    const result = await runSandboxed(options, `sleep ${marker} & sleep ${marker} & echo started; wait`, options.workspace, 1_000);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(result.stdout).toBe("started\n");
    expect(result.exit_code).toBe(137);
    expect(result.stderr).toMatch(/killed: timed out after 1000 ms/);
    await expect.poll(() => spawnSync("pgrep", ["-f", `sleep ${marker}`]).status, { timeout: 5_000 }).toBe(1);
  });

  it("caps stdout and stderr at 1 MiB each and flags truncated", async () => {
    const { options } = sandbox();
    const result = await runSandboxed(options, "head -c 3000000 /dev/zero | tr '\\0' a; head -c 10 /dev/zero | tr '\\0' b >&2", options.workspace, 20_000);
    expect(result.stdout.length).toBe(1024 * 1024);
    expect(result.stderr).toBe("bbbbbbbbbb");
    expect(result).toMatchObject({ exit_code: 0, truncated: true });
    const small = await runSandboxed(options, "echo ok; exit 3", options.workspace, 10_000);
    expect(small).toMatchObject({ exit_code: 3, stdout: "ok\n", stderr: "", truncated: false });
    expect(Object.keys(small)).toEqual(["duration_ms", "exit_code", "stderr", "stdout", "truncated"]);
  });

  it("confines cwd to the workspace and validates the tool input", async () => {
    const { options } = sandbox();
    mkdirSync(join(options.workspace, "sub"));
    expect(confinedCwd(options.workspace, "sub")).toBe(join(options.workspace, "sub"));
    expect(() => confinedCwd(options.workspace, "..")).toThrow("cwd must be inside the workspace");
    expect(() => confinedCwd(options.workspace, "/etc")).toThrow("cwd must be inside the workspace");
    const tool = shellPack(options).tools[0]!;
    expect(tool).toMatchObject({ name: "shell_exec", requiredCapabilities: ["shell"] });
    await expect(Promise.resolve(tool.handler({}, { requestId: "r" }))).rejects.toThrow("command is required");
    await expect(Promise.resolve(tool.handler({ command: "pwd", cwd: "../.." }, { requestId: "r" }))).rejects.toThrow("cwd must be inside the workspace");
    expect(await tool.handler({ command: "pwd", cwd: "sub" }, { requestId: "r" })).toMatchObject({ stdout: `${join(options.workspace, "sub")}\n` });
  });
});
