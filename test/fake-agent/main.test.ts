// ABOUTME: The fake-agent command run in-process through main(argv, io): exit codes 0/1/2/3, stderr texts,
// ABOUTME: -instances, -events-out (file and stdout), -reconnect and SIGINT handling.
import * as grpc from "@grpc/grpc-js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { main, type MainIo } from "../../cmd/fake-agent/main.js";
import { startFakeServer, type FakeServer, type FakeServerOptions } from "./support/fake-server.js";

const dir = mkdtempSync(join(tmpdir(), "fake-agent-main-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function testIo(env: NodeJS.ProcessEnv = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let handler: ((signal: string) => void) | undefined;
  const io: MainIo = {
    stdout: (t) => stdout.push(t),
    stderr: (l) => stderr.push(l),
    env,
    onSignal: (h) => {
      handler = h;
      return () => (handler = undefined);
    },
  };
  return { io, stdout, stderr, signal: () => handler?.("SIGINT"), hasSignalHandler: () => handler !== undefined };
}

async function serve(options: FakeServerOptions = {}): Promise<FakeServer> {
  server = await startFakeServer(options);
  return server;
}

describe("fake-agent main: startup errors", () => {
  it("prints usage and exits 0 for -h", async () => {
    const t = testIo();
    expect(await main(["-h"], t.io)).toBe(0);
    const usage = t.stderr.join("\n");
    expect(usage).toContain("Usage of fake-agent:");
    // Defaults, Go-style, and the script format a newcomer needs without the spec.
    expect(usage).toContain('  -addr string\n    \tgateway gRPC address (default "localhost:50051")\n');
    expect(usage).toContain("  -done-delay-ms int\n    \techo mode: delay before done (default 50)\n");
    expect(usage).toContain("(default $COVEN_TOKEN)");
    expect(usage).toContain("Script format (-script file.json; full reference in docs/fake-agent.md):");
    expect(usage).toContain('{"approval": {"id", "name", "input", "timeout_ms", "on_deny": "continue"|"error"}}');
  });

  it("exits 2 with the flag error and usage", async () => {
    const t = testIo();
    expect(await main(["--chunks", "zero"], t.io)).toBe(2);
    expect(t.stderr[0]).toBe('invalid value "zero" for flag -chunks: parse error');
    expect(t.stderr[1]).toContain("Usage of fake-agent:");
  });

  it("exits 2 with `script error: <path>: <detail>` for a malformed script", async () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, JSON.stringify({ default: [{ nope: true }] }));
    const t = testIo();
    expect(await main(["-script", path], t.io)).toBe(2);
    expect(t.stderr).toEqual([`script error: ${path}: default[0]: unknown step "nope"`]);
  });

  it("exits 2 for an unusable -ssh-key", async () => {
    const t = testIo();
    const path = join(dir, "no-key");
    expect(await main(["-ssh-key", path], t.io)).toBe(2);
    expect(t.stderr[0]).toMatch(new RegExp(`^ssh key error: ${path}: ENOENT`));
  });

  it("exits 3 with `registration rejected: …` on registration_error", async () => {
    const s = await serve({ onRegister: () => ({ registrationError: { reason: "agent dup already registered", suggestedId: "dup-2" } }) });
    const t = testIo();
    expect(await main(["-addr", s.addr, "-id", "dup"], t.io)).toBe(3);
    expect(t.stderr).toEqual(["registration rejected: agent dup already registered (suggested: dup-2)"]);
    expect(t.hasSignalHandler()).toBe(false);
  });

  it("exits 3 with `registration failed: <STATUS>: <detail>` on a gRPC error, sending COVEN_TOKEN", async () => {
    const s = await serve({ rejectCalls: { code: grpc.status.UNAUTHENTICATED, details: "invalid or expired token" } });
    const t = testIo({ COVEN_TOKEN: "stale" });
    expect(await main(["-addr", s.addr], t.io)).toBe(3);
    expect(t.stderr[0]).toBe("registration failed: UNAUTHENTICATED: invalid or expired token");
    // The second line says how to let the agent in.
    expect(t.stderr[1]).toMatch(/^hint: this gateway has auth on\. .*coven-admin agents create --name <name> --pubkey .*-ssh-key .*auth\.agent_auto_registration/);
    expect(t.stderr).toHaveLength(2);
  });

  it("with -reconnect retries a first connection the gateway cannot take yet, and Ctrl-C stops the retrying", async () => {
    let calls = 0;
    const s = await serve({ onRegister: () => (calls++ === 0 ? { status: { code: grpc.status.UNAVAILABLE, details: "starting up" } } : { welcome: {} }) });
    const t = testIo();
    const done = main(["-addr", s.addr, "-reconnect"], t.io);
    await expect.poll(() => t.stderr, { timeout: 5_000 }).toContain("registered as e2e-echo-agent (instance: 00000001-abcd)");
    expect(t.stderr[0]).toBe("registration failed: UNAVAILABLE: starting up; retrying in 500ms");
    t.signal();
    expect(await done).toBe(0);

    const never = await serve({ onRegister: () => ({ status: { code: grpc.status.UNAVAILABLE, details: "down" } }) });
    const t2 = testIo();
    const stopped = main(["-addr", never.addr, "-reconnect"], t2.io);
    await expect.poll(() => t2.stderr.length).toBeGreaterThan(0);
    t2.signal();
    expect(await stopped).toBe(0);
  });

  it("without -reconnect a first connection refused as UNAVAILABLE exits 3 at once", async () => {
    const s = await serve({ onRegister: () => ({ status: { code: grpc.status.UNAVAILABLE, details: "starting up" } }) });
    const t = testIo();
    expect(await main(["-addr", s.addr], t.io)).toBe(3);
    expect(t.stderr).toEqual(["registration failed: UNAVAILABLE: starting up"]);
  });
});

describe("fake-agent main: running", () => {
  it("exits 0 after Shutdown, printing the registration and shutdown lines", async () => {
    const s = await serve();
    const t = testIo({ COVEN_TOKEN: "jwt-1" });
    const done = main(["--addr", s.addr], t.io);
    const conn = await s.connection(0);
    expect(conn.metadata.authorization).toBe("Bearer jwt-1");
    await expect.poll(() => t.stderr).toContain("registered as e2e-echo-agent (instance: 00000001-abcd)");
    conn.send({ payload: { case: "shutdown", value: { reason: "bye" } } });
    expect(await done).toBe(0);
    expect(t.stderr).toContain("shutdown: bye");
  });

  it("exits 1 on a stream error without -reconnect", async () => {
    const s = await serve();
    const t = testIo();
    const done = main(["-addr", s.addr], t.io);
    (await s.connection(0)).fail(grpc.status.INTERNAL, "receiving message: boom");
    expect(await done).toBe(1);
    expect(t.stderr).toContain("stream error: INTERNAL: receiving message: boom");
  });

  it("reconnects after a stream error and after a Shutdown (a gateway restart) with -reconnect; Ctrl-C exits 0", async () => {
    const s = await serve();
    const t = testIo();
    const done = main(["-addr", s.addr, "-reconnect"], t.io);
    (await s.connection(0)).fail(grpc.status.UNAVAILABLE, "going away");
    const second = await s.connection(1);
    expect(t.stderr).toContain("stream error: UNAVAILABLE: going away; reconnecting in 500ms");
    second.send({ payload: { case: "shutdown", value: { reason: "gateway shutting down" } } });
    await s.connection(2);
    expect(t.stderr).toContain("shutdown: gateway shutting down");
    expect(t.stderr).toContain("shutdown: gateway shutting down; reconnecting in 500ms");
    t.signal();
    expect(await done).toBe(0);
  });

  it("closes the stream gracefully and exits 0 on SIGINT", async () => {
    const s = await serve();
    const t = testIo();
    const done = main(["-addr", s.addr], t.io);
    const conn = await s.connection(0);
    t.signal();
    expect(await done).toBe(0);
    expect(await conn.clientEnded).toBe("end");
    expect(t.hasSignalHandler()).toBe(false);
  });

  it("runs -instances N with numbered ids and names, sharing one -events-out file", async () => {
    const s = await serve();
    const trace = join(dir, "instances.jsonl");
    const t = testIo();
    const done = main(["-addr", s.addr, "-instances", "3", "-events-out", trace, "-done-delay-ms", "0"], t.io);
    const conns = await Promise.all([0, 1, 2].map((i) => s.connection(i)));
    const regs = conns.map((c) => `${c.register?.agentId}/${c.register?.name}`).sort();
    expect(regs).toEqual(["e2e-echo-agent-1/Echo Agent 1", "e2e-echo-agent-2/Echo Agent 2", "e2e-echo-agent-3/Echo Agent 3"]);
    await Promise.all(conns.map((c) => c.untilTerminal(c.sendMessage("hi"))));
    t.signal();
    expect(await done).toBe(0);
    const lines = readFileSync(trace, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { dir: string; agent_id: string; msg: Record<string, unknown> });
    for (const id of ["e2e-echo-agent-1", "e2e-echo-agent-2", "e2e-echo-agent-3"]) {
      const mine = lines.filter((l) => l.agent_id === id).map((l) => `${l.dir}:${Object.keys(l.msg)[0]}`);
      expect(mine).toEqual(["out:register", "in:welcome", "in:sendMessage", "out:response", "out:response"]);
    }
    expect(t.stderr.filter((l) => / registered as /.test(l)).sort()[0]).toMatch(/^\[e2e-echo-agent-1\] registered as e2e-echo-agent-1 /);
  });

  it("writes the trace to stdout for -events-out -", async () => {
    const s = await serve();
    const t = testIo();
    const done = main(["-addr", s.addr, "-events-out", "-"], t.io);
    const conn = await s.connection(0);
    conn.send({ payload: { case: "shutdown", value: { reason: "bye" } } });
    expect(await done).toBe(0);
    const lines = t.stdout.join("").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.dir)).toEqual(["out", "in", "in"]);
    expect(lines[2]).toMatchObject({ agent_id: "e2e-echo-agent", msg: { shutdown: { reason: "bye" } } });
    expect(typeof lines[0]!.t).toBe("number");
  });
});
