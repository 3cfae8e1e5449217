// ABOUTME: `coven-gateway agents --json` against live gateways: one JSON document listing the connected agents'
// ABOUTME: ids and names (no-auth), the token coven-admin would send (auth on), and a refusal with its hint.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { main } from "../../cmd/coven-gateway/main.js";
import { startFakeAgent, type FakeAgentHandle } from "../../cmd/fake-agent/fake-agent.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { startTestGateway } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";

let dir: string;
let open: TestGateway;
let authed: TestGateway;
const agents: FakeAgentHandle[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "coven-gw-agents-"));
  open = await startTestGateway();
  authed = await startAuthGateway({ lockout: { exemptLoopback: true } });
  agents.push(await startFakeAgent({ addr: open.grpcAddr, id: "zed", name: "Zed Agent", log: () => {} }));
  agents.push(await startFakeAgent({ addr: open.grpcAddr, id: "amy", name: "Amy Agent", log: () => {} }));
});

afterAll(async () => {
  for (const a of agents) await a.close();
  await open.stop();
  await authed.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function agentsCommand(gw: TestGateway, args: string[], extra: NodeJS.ProcessEnv = {}) {
  const config = join(dir, `${gw.httpPort}.yaml`);
  writeFileSync(config, `server:\n  http_addr: "${gw.httpAddr}"\n  grpc_addr: "127.0.0.1:1"\n`);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const env = { COVEN_CONFIG: config, HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), ...extra };
  const code = await main(["agents", ...args], { env, stdout, stderr });
  return { code, out, err };
}

describe("coven-gateway agents --json", () => {
  it("prints one JSON document with every connected agent's id and name; the plain form stays the ready line", async () => {
    const r = await agentsCommand(open, ["--json"]);
    expect(r).toMatchObject({ code: 0, err: "" });
    const list = JSON.parse(r.out) as Array<{ id: string; name: string }>;
    expect(list.map((a) => [a.id, a.name])).toEqual([
      ["amy", "Amy Agent"],
      ["zed", "Zed Agent"],
    ]);
    expect((await agentsCommand(open, [])).out).toBe("ready (2 agents)\n");
  });

  it("sends $COVEN_TOKEN to an auth-on gateway, and says how to fix a refusal", async () => {
    const token = await tokenFor(await seedPrincipal(authed.gateway.store.db, { roles: ["owner"] }));
    const ok = await agentsCommand(authed, ["--json"], { COVEN_TOKEN: token });
    expect(ok).toMatchObject({ code: 0, err: "" });
    expect(JSON.parse(ok.out)).toEqual([]);
    const refused = await agentsCommand(authed, ["--json"]);
    expect(refused.code).toBe(1);
    expect(refused.out).toBe("");
    expect(refused.err).toMatch(/^Error: agents check failed: status 401: .+\nhint: set COVEN_TOKEN or run 'coven-gateway bootstrap --name <you>'\n$/);
  });

  it("rejects other arguments", async () => {
    expect((await agentsCommand(open, ["--yaml"])).err).toBe("Error: unknown flag: --yaml\n");
  });
});
