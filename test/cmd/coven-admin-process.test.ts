// ABOUTME: The built `dist/cmd/coven-admin.js` run as a child process against a real auth-on gateway
// ABOUTME: (run `npm run build` first): exit codes, stdout/stderr split, `--json` piped, refusal and unreachable lines.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestGateway } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";

const BIN = fileURLToPath(new URL("../../dist/cmd/coven-admin.js", import.meta.url));

let gw: TestGateway;
let dir: string;
let ownerId: string;
let ownerToken: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "coven-admin-bin-"));
  gw = await startAuthGateway({ lockout: { exemptLoopback: true } });
  ownerId = await seedPrincipal(gw.gateway.store.db, { roles: ["owner"], displayName: "Olive Owner" });
  ownerToken = await tokenFor(ownerId);
});

afterAll(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const env = { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), COVEN_GATEWAY_GRPC: gw.grpcAddr, ...extra };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

describe("coven-admin as a process", () => {
  it("--help exits 0 and no arguments exits 1, both printing the usage on stdout", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: coven-admin <command> [args]");
    expect((await run([])).code).toBe(1);
  });

  it("me prints the identity and exits 0; --json is one parseable document", async () => {
    const human = await run(["me"], { COVEN_TOKEN: ownerToken });
    expect(human.err).toBe("");
    expect(human.code).toBe(0);
    expect(human.out).toContain(`  Principal ID:   ${ownerId}\n`);
    const json = await run(["me", "--json"], { COVEN_TOKEN: ownerToken });
    expect(JSON.parse(json.out).display_name).toBe("Olive Owner");
  });

  it("a refused token exits 1 with the source and the hint on stderr, nothing on stdout", async () => {
    const r = await run(["agents"], { COVEN_TOKEN: "garbage" });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^Error: ListPrincipals: UNAUTHENTICATED: .+ \(token from \$COVEN_TOKEN\)\nhint: set COVEN_TOKEN or run 'coven-gateway bootstrap --name <you>'\n$/);
  });

  it("an unreachable gateway exits 1 quickly with one line and a hint", async () => {
    const r = await run(["bindings", "--json"], { COVEN_GATEWAY_GRPC: "127.0.0.1:1", COVEN_TOKEN: ownerToken });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err.split("\n")[0]).toBe("Error: connecting to 127.0.0.1:1: connection refused");
  });

  it("token create mints a token the next process authenticates with", async () => {
    const r = await run(["token", "create", "-p", ownerId], { COVEN_TOKEN: ownerToken });
    expect(r.code).toBe(0);
    const token = /Token \(keep this secret!\):\n\n {2}(\S+)\n/.exec(r.out)![1]!;
    const status = await run(["status", "--json"], { COVEN_TOKEN: token });
    expect(JSON.parse(status.out)).toMatchObject({ gateway: { reachable: true }, identity: { principal_id: ownerId } });
  });
});
