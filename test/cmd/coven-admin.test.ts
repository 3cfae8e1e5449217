// ABOUTME: `coven-admin` in-process against a real auth-on gateway: credentials resolution and refusal messages,
// ABOUTME: usage, me, status, bindings, agents and token create in human and `--json` form, colour rules, aliases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { main, USAGE } from "../../cmd/coven-admin/main.js";
import { formatCreated, truncate } from "../../cmd/coven-admin/output.js";
import type { CliIo } from "../../cmd/coven-gateway/cli-io.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { startTestGateway } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";

let gw: TestGateway;
let dir: string;
let ownerId: string;
let ownerToken: string;
let memberToken: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "coven-admin-"));
  gw = await startAuthGateway({ lockout: { exemptLoopback: true } });
  const db = gw.gateway.store.db;
  ownerId = await seedPrincipal(db, { roles: ["owner"], displayName: "Olive Owner" });
  ownerToken = await tokenFor(ownerId);
  memberToken = await tokenFor(await seedPrincipal(db, { roles: ["member"], displayName: "Mo Member" }));
});

afterAll(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs coven-admin in-process with a clean environment (no real home, no real token file). */
async function admin(args: string[], extra: NodeJS.ProcessEnv = {}, tty = false): Promise<Run> {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty });
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), COVEN_GATEWAY_GRPC: gw.grpcAddr, ...extra };
  const io: CliIo = { env, stdout, stderr };
  const code = await main(args, io);
  return { code, out, err };
}

const asOwner = (args: string[]) => admin(args, { COVEN_TOKEN: ownerToken });

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("usage", () => {
  it("prints the usage after the banner: exit 1 with no arguments, 0 for help, -h and --help", async () => {
    const none = await admin([]);
    expect(none.code).toBe(1);
    expect(none.out.endsWith(USAGE)).toBe(true);
    expect(none.out).toContain("Usage: coven-admin <command> [args]");
    for (const flag of ["help", "-h", "--help"]) {
      const r = await admin([flag]);
      expect(r.code).toBe(0);
      expect(r.out.endsWith(USAGE)).toBe(true);
    }
  });

  it("rejects an unknown command on stderr, then prints the usage, exit 1", async () => {
    const r = await admin(["frobnicate"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("Unknown command: frobnicate\n");
    expect(r.out.endsWith(USAGE)).toBe(true);
  });

  it("each command and subcommand has its own --help, printed on stdout with exit 0 and no gateway call", async () => {
    // An unreachable address proves help never connects.
    const offline = { COVEN_GATEWAY_GRPC: `127.0.0.1:${await closedPort()}` };
    const create = await admin(["agents", "create", "--help"], offline);
    expect(create).toMatchObject({ code: 0, err: "" });
    expect(create.out.startsWith("Usage: coven-admin agents create --name <name> [--pubkey <key> | --pubkey-fp <fingerprint>]\n")).toBe(true);
    expect(create.out).toContain("Aliases: add\n");
    expect(create.out).toMatch(/\n {2}-n, --name <name> +Display name \(required\)\n/);
    expect(create.out).toMatch(/\n {2}-f, --pubkey-fp, --fp <fingerprint> +SHA256/);
    // Aliases, -h, and `help <command> <subcommand>` reach the same text.
    expect((await admin(["agents", "add", "-h"], offline)).out).toBe(create.out);
    expect((await admin(["help", "agents", "create"], offline)).out).toBe(create.out);

    const group = await admin(["bindings", "--help"], offline);
    expect(group.code).toBe(0);
    expect(group.out.startsWith("Usage: coven-admin bindings <subcommand> [args]\n")).toBe(true);
    expect(group.out).toMatch(/\n {2}delete \(rm, remove\) +Delete a binding by ID\.\n/);
    expect((await admin(["help", "bindings"], offline)).out).toBe(group.out);

    const leaves: Array<[string[], string]> = [
      [["me", "--help"], "Usage: coven-admin me [--json]\n"],
      [["status", "-h"], "Usage: coven-admin status [--json]\n"],
      [["bindings", "ls", "--help"], "Usage: coven-admin bindings list [--json]\n"],
      [["token", "create", "--help"], "Usage: coven-admin token create --principal <id> [--ttl <days>]\n"],
      [["invite", "create", "--help"], "Usage: coven-admin invite create [--url <url>] [--db <path>] [--ttl <hours>]\n"],
      [["chat", "--help"], "Usage: coven-admin chat <agent-id> [message...] [--timeout <seconds>]\n"],
    ];
    for (const [args, first] of leaves) {
      const r = await admin(args, offline);
      expect({ args, code: r.code, err: r.err, first: r.out.split("\n")[0] + "\n" }).toEqual({ args, code: 0, err: "", first });
      expect(r.out).toContain("-h, --help");
    }
  });
});

describe("connection and credentials", () => {
  it("sends $COVEN_TOKEN and prints the Identity block exactly", async () => {
    const r = await asOwner(["me"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      "\n  Identity\n  --------\n" +
        `  Principal ID:   ${ownerId}\n` +
        "  Type:           client\n" +
        "  Display Name:   Olive Owner\n" +
        "  Status:         approved\n" +
        "  Roles:          owner\n\n",
    );
  });

  it("falls back to the token file under XDG_CONFIG_HOME, trimmed", async () => {
    const cfg = mkdtempSync(join(dir, "xdg-"));
    mkdirSync(join(cfg, "coven"));
    writeFileSync(join(cfg, "coven", "token"), `  ${ownerToken}\n\n`);
    const r = await admin(["me"], { XDG_CONFIG_HOME: cfg });
    expect(r.code).toBe(0);
    expect(r.out).toContain("Display Name:   Olive Owner");
  });

  it("falls back to ~/.config/coven/token when XDG_CONFIG_HOME is unset", async () => {
    const home = mkdtempSync(join(dir, "home-"));
    mkdirSync(join(home, ".config", "coven"), { recursive: true });
    writeFileSync(join(home, ".config", "coven", "token"), ownerToken);
    const r = await admin(["me"], { HOME: home, XDG_CONFIG_HOME: undefined });
    expect(r.code).toBe(0);
    expect(r.out).toContain("Display Name:   Olive Owner");
  });

  it("prefers $COVEN_TOKEN over the token file", async () => {
    const cfg = mkdtempSync(join(dir, "xdg-"));
    mkdirSync(join(cfg, "coven"));
    writeFileSync(join(cfg, "coven", "token"), "not-a-token");
    const r = await admin(["me"], { XDG_CONFIG_HOME: cfg, COVEN_TOKEN: ownerToken });
    expect(r.code).toBe(0);
  });

  it("names $COVEN_TOKEN when a bad token is refused, with the hint, exit 1", async () => {
    const r = await admin(["me"], { COVEN_TOKEN: "garbage" });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    const lines = r.err.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Error: GetMe: UNAUTHENTICATED: .+ \(token from \$COVEN_TOKEN\)$/);
    expect(lines[1]).toBe("hint: set COVEN_TOKEN or run 'coven-gateway bootstrap --name <you>'");
  });

  it("names the token file's path when its token is refused", async () => {
    const cfg = mkdtempSync(join(dir, "xdg-"));
    mkdirSync(join(cfg, "coven"));
    writeFileSync(join(cfg, "coven", "token"), "garbage\n");
    const r = await admin(["me"], { XDG_CONFIG_HOME: cfg });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`(token from ${join(cfg, "coven", "token")})`);
  });

  it("sends no token when there is none, and says so when the gateway refuses", async () => {
    const r = await admin(["me"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Error: GetMe: UNAUTHENTICATED: .*\(no token sent: COVEN_TOKEN is unset and .*token does not exist\)\nhint: /);
  });

  it("gives one line and a hint naming the address source when the gateway is unreachable", async () => {
    const port = await closedPort();
    const r = await admin(["me"], { COVEN_GATEWAY_GRPC: `127.0.0.1:${port}`, COVEN_TOKEN: ownerToken });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      `Error: connecting to 127.0.0.1:${port}: connection refused\n` +
        "hint: is the gateway running? (address from $COVEN_GATEWAY_GRPC; set COVEN_GATEWAY_GRPC or COVEN_GATEWAY_HOST)\n",
    );
  });

  it("derives host:50051 from COVEN_GATEWAY_HOST when COVEN_GATEWAY_GRPC is unset", async () => {
    const r = await admin(["me"], { COVEN_GATEWAY_GRPC: undefined, COVEN_GATEWAY_HOST: "127.0.0.2" });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Error: connecting to 127\.0\.0\.2:50051: /);
    expect(r.err).toContain("address from $COVEN_GATEWAY_HOST");
  });

  it("says PERMISSION_DENIED with the token source when the principal lacks the role", async () => {
    const r = await admin(["bindings"], { COVEN_TOKEN: memberToken });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Error: ListBindings: PERMISSION_DENIED: .*\(token from \$COVEN_TOKEN\)\nhint: /);
  });
});

describe("me and status", () => {
  it("me --json prints exactly one JSON document", async () => {
    const r = await asOwner(["me", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ principal_id: ownerId, principal_type: "client", display_name: "Olive Owner", roles: ["owner"] });
  });

  it("status prints the banner, the gateway and the identity", async () => {
    const r = await asOwner(["status"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`  Gateway:  connected to ${gw.grpcAddr}\n  Identity: Olive Owner (client)\n  Roles:    owner\n\n`);
    expect(r.out).toContain("\\___\\___/");
  });

  it("status reports a missing token, a refused token and an unreachable gateway with exit 0", async () => {
    expect((await admin(["status"])).out).toContain("  Identity: (no token - set COVEN_TOKEN)\n\n");
    const refused = await admin(["status"], { COVEN_TOKEN: "garbage" });
    expect(refused.code).toBe(0);
    expect(refused.out).toMatch(/  Identity: auth failed \(UNAUTHENTICATED: .+\)\n\n$/);
    const port = await closedPort();
    const down = await admin(["status"], { COVEN_GATEWAY_GRPC: `127.0.0.1:${port}` });
    expect(down.code).toBe(0);
    expect(down.out).toMatch(new RegExp(`  Gateway:  UNREACHABLE \\(connecting to 127\\.0\\.0\\.1:${port}: connection refused\\)\n\n$`));
  });

  it("status --json prints one document with reachability and identity", async () => {
    const r = await asOwner(["status", "--json"]);
    expect(JSON.parse(r.out)).toMatchObject({ gateway: { addr: gw.grpcAddr, reachable: true }, identity: { principal_id: ownerId } });
    const port = await closedPort();
    const down = JSON.parse((await admin(["status", "--json"], { COVEN_GATEWAY_GRPC: `127.0.0.1:${port}` })).out);
    expect(down).toMatchObject({ gateway: { reachable: false, error: `connecting to 127.0.0.1:${port}: connection refused` }, identity: null });
  });

  it("colours only on a TTY and not when NO_COLOR is set", async () => {
    expect((await asOwner(["me"])).out).not.toContain("\u001b[");
    const tty = await admin(["me"], { COVEN_TOKEN: ownerToken }, true);
    expect(tty.out).toContain("\u001b[32mowner\u001b[0m");
    const noColor = await admin(["me"], { COVEN_TOKEN: ownerToken, NO_COLOR: "1" }, true);
    expect(noColor.out).not.toContain("\u001b[");
  });
});

describe("agents and bindings", () => {
  it("agents create, list (table, --json, ls), then delete (rm)", async () => {
    const fp = "ab".repeat(32);
    const created = await asOwner(["agents", "add", "-n", "a-very-long-agent-display-name", "--fp", fp]);
    expect(created.err).toBe("");
    const id = /✓ Created agent: (\S+)\n/.exec(created.out)![1]!;
    expect(created.out).toBe(`✓ Created agent: ${id}\n  Name:        a-very-long-agent-display-name\n  Fingerprint: ${fp}\n  Status:      approved\n`);

    const listed = await asOwner(["agents"]);
    expect(listed.out.startsWith("\n  Agent Principals\n  ----------------\n  ID")).toBe(true);
    const row = listed.out.split("\n").find((l) => l.includes(truncate(id, 20)))!;
    expect(row).toContain("a-very-long-agent-dis...");
    expect(row).toContain(`${fp.slice(0, 17)}...`);
    expect((await asOwner(["agents", "ls"])).out).toBe(listed.out);

    const json = JSON.parse((await asOwner(["agents", "list", "--json"])).out) as Array<{ id: string; display_name: string }>;
    expect(json.find((p) => p.id === id)?.display_name).toBe("a-very-long-agent-display-name");

    expect((await asOwner(["agents", "rm", id])).out).toBe(`✓ Deleted agent: ${id}\n`);
    expect((await asOwner(["agents", "--json"])).out).not.toContain(id);
  });

  it("bindings: empty list, create, truncated table, --json, delete", async () => {
    expect((await asOwner(["bindings"])).out).toBe("\n  Channel Bindings\n  ----------------\n  (no bindings)\n\n");
    const agent = await asOwner(["agents", "create", "--name", "bound", "--pubkey-fp", "cd".repeat(32)]);
    const agentId = /Created agent: (\S+)/.exec(agent.out)![1]!;
    const channel = "channel-id-that-is-longer-than-24";
    const created = await asOwner(["bindings", "add", "-f", "slack", "-c", channel, "-a", agentId]);
    expect(created.err).toBe("");
    const id = /✓ Created binding: (\S+)\n/.exec(created.out)![1]!;
    expect(created.out).toBe(`✓ Created binding: ${id}\n  Frontend:  slack\n  Channel:   ${channel}\n  Agent:     ${agentId}\n`);

    const listed = (await asOwner(["bindings", "ls"])).out.split("\n");
    expect(listed.slice(0, 3)).toEqual(["", "  Channel Bindings", "  ----------------"]);
    expect(listed[3]).toMatch(/^ {2}ID {2,}FRONTEND {2}CHANNEL {2,}AGENT {2,}CREATED$/);
    expect(listed[5]).toContain(`${truncate(id, 12)}  slack     ${channel.slice(0, 21)}...`);
    expect(listed[5]).toContain(truncate(agentId, 20));
    const json = JSON.parse((await asOwner(["bindings", "--json"])).out) as Array<{ id: string; channel_id: string }>;
    expect(json).toEqual([expect.objectContaining({ id, channel_id: channel })]);

    expect((await asOwner(["bindings", "remove", id])).out).toBe(`✓ Deleted binding: ${id}\n`);
    expect((await asOwner(["bindings", "list"])).out).toContain("(no bindings)");
  });

  it("prints the usage errors of the subcommands with exit 1", async () => {
    const cases: Array<[string[], string]> = [
      [["bindings", "frob"], "unknown bindings subcommand: frob (use list, create, delete)"],
      [["bindings", "create", "-f", "slack"], "usage: bindings create --frontend <name> --channel <id> --agent <id>"],
      [["bindings", "create", "-f"], "usage: bindings create --frontend <name> --channel <id> --agent <id>"],
      [["bindings", "delete"], "usage: bindings delete <binding-id>"],
      [["agents", "frob"], "unknown agents subcommand: frob (use list, create, delete)"],
      [["agents", "create"], "usage: agents create --name <name> [--pubkey <key> | --pubkey-fp <fingerprint>]"],
      [["agents", "create", "-n", "x"], "agent requires either --pubkey <key> or --pubkey-fp <fingerprint>"],
      [["agents", "delete"], "usage: agents delete <agent-id>"],
      [["token"], "usage: token create --principal <id> [--ttl <duration>]"],
      [["token", "mint"], "usage: token create --principal <id> [--ttl <duration>]"],
      [["token", "create"], "usage: token create --principal <id> [--ttl <days>]"],
      [["token", "create", "-p", "x", "-t", "ten"], 'invalid ttl: "ten" is not a whole number of days'],
      [["token", "create", "-p"], "usage: token create --principal <id> [--ttl <days>]"],
      [["agents", "delete", "a", "b"], "usage: agents delete <agent-id>"],
      [["agents", "ls", "--bogus"], "usage: agents list [--json]"],
      [["invite", "revoke"], "unknown invite subcommand: revoke (use create)"],
    ];
    for (const [args, message] of cases) {
      const r = await asOwner(args);
      expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 1, err: `Error: ${message}\n` });
    }
  });
});

describe("token create", () => {
  it("prints the token block, and the token authenticates `me` as that principal", async () => {
    const r = await asOwner(["token", "create", "--principal", ownerId, "--ttl", "2"]);
    expect(r.err).toBe("");
    const m = /^\n {2}Token created successfully\n\n {2}Principal: {2}(\S+)\n {2}Expires: {4}(\S+)\n\n {2}Token \(keep this secret!\):\n\n {2}(\S+)\n\n$/.exec(r.out);
    expect(m?.[1]).toBe(ownerId);
    const expires = Date.parse(m![2]!);
    expect(Math.abs(expires - (Date.now() + 2 * 86_400_000))).toBeLessThan(60_000);
    const me = await admin(["me", "--json"], { COVEN_TOKEN: m![3]! });
    expect(JSON.parse(me.out).principal_id).toBe(ownerId);
  });
});

describe("auth-off gateway", () => {
  it("works end to end without any token", async () => {
    const open = await startTestGateway();
    try {
      const r = await admin(["me"], { COVEN_GATEWAY_GRPC: open.grpcAddr });
      expect(r.err).toBe("");
      expect(r.out).toContain("Principal ID:   anonymous");
    } finally {
      await open.stop();
    }
  });
});

describe("formatting helpers", () => {
  it("truncates to n−3 characters plus ... and formats CREATED locally or keeps the raw text", () => {
    expect(truncate("abcdefghijklm", 12)).toBe("abcdefghi...");
    expect(truncate("abcdefghijkl", 12)).toBe("abcdefghijkl");
    expect(formatCreated("not a date")).toBe("not a date");
    const d = new Date(2026, 0, 2, 15, 4);
    expect(formatCreated(d.toISOString())).toBe("Jan 02 15:04");
  });
});
