// ABOUTME: `coven-gateway guard test` (ops.md §3.7): verdict lines and exit codes with the configured and default rules,
// ABOUTME: usage and input errors, config errors as serve reports them, and the deny exit code from a real process.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cmd/coven-gateway/main.js";

const ROOT = resolve(import.meta.dirname, "../..");
let dir: string;
let configPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "guard-cli-"));
  configPath = join(dir, "gateway.yaml");
  // The guard stays off: the dry run evaluates the rules anyway.
  writeFileSync(
    configPath,
    [
      "guard:",
      "  rules:",
      "    - { name: ask-deploy, tools: ['deploy_*'], match: 'prod', action: require_approval, message: 'needs a human' }",
      "    - { name: note-curl, match: 'curl', action: warn }",
      "",
    ].join("\n"),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], env: NodeJS.ProcessEnv = { COVEN_CONFIG: configPath, HOME: dir }) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await main(args, { env, stdout, stderr });
  return { code, out, err };
}

describe("coven-gateway guard test", () => {
  it("prints `<action> by <rule>: <message>`, exit 3 for deny and 0 otherwise, `allowed` when nothing matches", async () => {
    expect(await run(["guard", "test", "--tool", "Bash", "--input", '{"command":"rm -rf /"}'])).toEqual({
      code: 3,
      out: "deny by rm-root: blocked by rule rm-root\n",
      err: "",
    });
    expect(await run(["guard", "test", "--tool", "deploy_app", "--input", '{"env":"prod"}'])).toEqual({
      code: 0,
      out: "require_approval by ask-deploy: needs a human\n",
      err: "",
    });
    expect(await run(["guard", "test", "--tool", "fetch", "--input", '"curl x"'])).toEqual({ code: 0, out: "warn by note-curl: blocked by rule note-curl\n", err: "" });
    expect(await run(["guard", "test", "--tool", "Bash", "--input", '{"command":"ls"}'])).toEqual({ code: 0, out: "allowed\n", err: "" });
  });

  it("a missing flag prints the usage and bad input its parse error, both exit 1", async () => {
    const usage = { code: 1, out: "", err: "usage: coven-gateway guard test --tool <name> --input <json>\n" };
    expect(await run(["guard", "test", "--tool", "Bash"])).toEqual(usage);
    expect(await run(["guard", "test", "--input", "{}"])).toEqual(usage);
    expect(await run(["guard"])).toEqual(usage);
    const bad = await run(["guard", "test", "--tool", "Bash", "--input", "{nope"]);
    expect(bad.code).toBe(1);
    expect(bad.out).toBe("");
    expect(bad.err).toMatch(/^Error: invalid --input: .+\n$/);
  });

  it("loads the configuration as serve does and reports its errors the same way", async () => {
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "guard:\n  rules:\n    - { name: a, match: '(', action: deny }\n");
    const r = await run(["guard", "test", "--tool", "Bash", "--input", "{}"], { COVEN_CONFIG: broken, HOME: dir });
    expect(r.code).toBe(1);
    expect(r.err).toBe("Error: loading config: validating config: guard.rules[0].match: invalid regular expression: /(/: Unterminated group\n");
    const missing = await run(["guard", "test", "--tool", "Bash", "--input", "{}"], { COVEN_CONFIG: join(dir, "nope.yaml"), HOME: dir });
    expect(missing.err).toMatch(/^Error: loading config: reading config file: .*nope\.yaml/);
  });

  it("exits 3 for a deny as a real process (no gateway running)", async () => {
    // Built without blocking the worker (a synchronous build starves vitest's own RPC).
    await promisify(execFile)(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json")], { cwd: ROOT });
    const child = spawn(process.execPath, [join(ROOT, "dist/cmd/coven-gateway.js"), "guard", "test", "--tool", "bash", "--input", '{"command":"mkfs.ext4 /dev/sda1"}'], {
      env: { PATH: process.env.PATH, HOME: dir, COVEN_CONFIG: configPath },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolveExit) => child.on("exit", (c) => resolveExit(c)));
    expect([code, out, err]).toEqual([3, "deny by mkfs: blocked by rule mkfs\n", ""]);
  }, 180_000);
});
