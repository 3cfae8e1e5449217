// ABOUTME: `coven-admin chat` interactions as child processes (run `npm run build` first): Ctrl-C (SIGINT) cancels
// ABOUTME: through the cancel API, and approvals and ask_user questions are answered in a pseudo-terminal (`script`).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestGateway } from "../support/gateway-harness.js";
import { startTestGateway } from "../support/gateway-harness.js";

const ADMIN = fileURLToPath(new URL("../../dist/cmd/coven-admin.js", import.meta.url));
const FAKE_AGENT = fileURLToPath(new URL("../../dist/cmd/fake-agent.js", import.meta.url));

function hasScript(): boolean {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

let gw: TestGateway;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "coven-chat-int-"));
  gw = await startTestGateway();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
});

afterAll(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A running child with its output so far and a way to wait for a pattern in it. */
interface Proc {
  child: ChildProcess;
  out(): string;
  err(): string;
  waitFor(pattern: RegExp, stream?: "out" | "err"): Promise<void>;
  exit: Promise<number | null>;
}

function track(child: ChildProcess): Proc {
  children.push(child);
  let out = "";
  let err = "";
  const listeners: Array<() => void> = [];
  const poke = () => listeners.forEach((l) => l());
  child.stdout!.on("data", (d: Buffer) => ((out += d.toString()), poke()));
  child.stderr!.on("data", (d: Buffer) => ((err += d.toString()), poke()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => (poke(), resolve(code))));
  return {
    child,
    out: () => out,
    err: () => err,
    exit,
    waitFor(pattern, stream = "out") {
      return new Promise((resolve, reject) => {
        const check = () => {
          const text = stream === "out" ? out : err;
          if (pattern.test(text)) {
            listeners.splice(listeners.indexOf(check), 1);
            resolve();
          } else if (child.exitCode !== null) reject(new Error(`exited ${child.exitCode} before ${pattern}: out=${JSON.stringify(out)} err=${JSON.stringify(err)}`));
        };
        listeners.push(check);
        check();
      });
    },
  };
}

async function startAgent(id: string, script: object, extra: string[] = []): Promise<{ proc: Proc; trace: string }> {
  const scriptPath = join(dir, `${id}.json`);
  const trace = join(dir, `${id}.jsonl`);
  writeFileSync(scriptPath, JSON.stringify(script));
  const child = spawn(process.execPath, [FAKE_AGENT, "-addr", gw.grpcAddr, "-id", id, "-script", scriptPath, "-events-out", trace, ...extra], {
    env: { PATH: process.env.PATH },
  });
  const proc = track(child);
  await proc.waitFor(new RegExp(`registered as ${id}`), "err");
  return { proc, trace };
}

function adminEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), COVEN_GATEWAY_GRPC: gw.grpcAddr, COVEN_GATEWAY_URL: gw.httpUrl, ...extra };
}

function chat(args: string[], env = adminEnv()): Proc {
  return track(spawn(process.execPath, [ADMIN, "chat", ...args], { env }));
}

/** Runs chat inside a pseudo-terminal: stdin, stdout and stderr of coven-admin are all the pty. */
function chatInPty(args: string[]): Proc {
  const quoted = [process.execPath, ADMIN, "chat", ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return track(spawn("script", ["-qfec", quoted, "/dev/null"], { env: { ...adminEnv(), TERM: "dumb", NO_COLOR: "1" } }));
}

const HANG = { rules: [{ match: "wait", steps: [{ text: "working" }, { hang: true }] }] };

function tracedCancels(trace: string): unknown[] {
  return readFileSync(trace, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { dir: string; msg: Record<string, unknown> })
    .filter((e) => e.dir === "in" && JSON.stringify(e.msg).includes("cancel"));
}

describe("Ctrl-C during a chat turn", () => {
  it("one-shot calls the cancel API, prints `^C canceled` and exits 130", async () => {
    const { proc: agent, trace } = await startAgent("cancel-1", HANG, ["-features", "cancellation"]);
    const c = chat(["cancel-1", "please wait"]);
    await c.waitFor(/working/);
    c.child.kill("SIGINT");
    expect(await c.exit).toBe(130);
    expect(c.out()).toBe("working\n^C canceled\n");
    expect(c.err()).toBe("");
    // The agent got the gateway's cancel_request for this request, i.e. the API call reached it.
    await agent.waitFor(/cancel/, "err").catch(() => undefined);
    expect(tracedCancels(trace).length).toBeGreaterThan(0);
  });

  it("a second Ctrl-C exits 130 at once while the cancel call is still pending", async () => {
    await startAgent("cancel-2", HANG);
    let sawCancel!: () => void;
    const cancelSeen = new Promise<void>((resolve) => (sawCancel = resolve));
    // A cancel endpoint that never answers.
    const blackhole: Server = createServer((req) => {
      if (req.url?.endsWith("/cancel")) sawCancel();
    });
    await new Promise<void>((resolve) => blackhole.listen(0, "127.0.0.1", resolve));
    try {
      const port = (blackhole.address() as { port: number }).port;
      const c = chat(["cancel-2", "wait"], adminEnv({ COVEN_GATEWAY_URL: `http://127.0.0.1:${port}` }));
      await c.waitFor(/working/);
      c.child.kill("SIGINT");
      await cancelSeen;
      const started = Date.now();
      c.child.kill("SIGINT");
      expect(await c.exit).toBe(130);
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(c.out()).not.toContain("^C canceled");
    } finally {
      blackhole.closeAllConnections();
      await new Promise<void>((resolve) => blackhole.close(() => resolve()));
    }
  });

  it("in the REPL it cancels the turn and returns to the prompt; a failed cancel is printed dim and ignored", async () => {
    await startAgent("cancel-3", HANG);
    // A gateway URL whose cancel answers 404, as the real one does for a request that already finished.
    const gone: Server = createServer((_req, res) => {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "request not found" }));
    });
    await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", resolve));
    try {
      const port = (gone.address() as { port: number }).port;
      const c = chat(["cancel-3"], adminEnv({ COVEN_GATEWAY_URL: `http://127.0.0.1:${port}` }));
      c.child.stdin!.write("wait\n");
      await c.waitFor(/working/);
      c.child.kill("SIGINT");
      await c.waitFor(/\^C canceled\n\n> $/);
      c.child.stdin!.end("hello\n");
      expect(await c.exit).toBe(0);
      expect(c.out()).toMatch(/^Chat with agent cancel-3 \(Ctrl\+D to exit\)\n\n> working\n\^C canceled\n\n> Echo: \*\*hello\*\*\n[^]*text\.\n\n> \n$/);
      expect(c.err()).toBe("cancel failed: 404 request not found\n");
    } finally {
      await new Promise<void>((resolve) => gone.close(() => resolve()));
    }
  });
});

describe.skipIf(!hasScript())("prompts in a pseudo-terminal", () => {
  it("a scripted approval is answered y at the prompt and the turn completes; the spinner is drawn and erased", async () => {
    const steps = [
      { approval: { id: "t1", name: "bash", input: { cmd: "ls" }, on_deny: "error" } },
      { text: "ran it" },
      { done: true },
    ];
    await startAgent("pty-appr", { rules: [{ match: "approve me", steps }] }, ["-done-delay-ms", "0"]);
    const c = chatInPty(["pty-appr", "approve me"]);
    await c.waitFor(/Approve tool bash \{"cmd":"ls"\}\? \[y\]es\/\[n\]o\/\[a\]ll: $/);
    c.child.stdin!.write("y\r");
    expect(await c.exit).toBe(0);
    expect(c.out()).toContain("ran it");
    expect(c.out()).toMatch(/waiting for pty-appr 0s/);
    expect(c.out()).toContain("\r\u001b[K");
  });

  it("a denied approval ends the turn with the agent's error, exit 1", async () => {
    const steps = [{ approval: { id: "t2", name: "rm", input: {}, on_deny: "error" } }, { done: "not reached" }];
    await startAgent("pty-deny", { rules: [{ match: "deny me", steps }] });
    const c = chatInPty(["pty-deny", "deny me"]);
    await c.waitFor(/Approve tool rm \{\}\? /);
    c.child.stdin!.write("\r");
    expect(await c.exit).toBe(1);
    expect(c.out()).toContain("Error: agent error: tool rm denied");
  });

  it("a question is answered by number at the prompt, and Ctrl-C typed in the terminal cancels the turn", async () => {
    await startAgent("pty-ask", HANG, ["-features", "cancellation"]);
    const c = chatInPty(["pty-ask", "wait here"]);
    await c.waitFor(/working/);
    // What ask_user does on the gateway side: the question reaches the agent's StreamEvents subscribers.
    const asked = gw.gateway.domain.questions.ask({
      agentId: "pty-ask",
      question: "Proceed?",
      header: "Deploy",
      options: [{ label: "yes" }, { label: "no", description: "decline" }],
      multiSelect: false,
      timeoutSeconds: 30,
    });
    await c.waitFor(/Deploy\r?\nProceed\?\r?\n {2}1\) yes\r?\n {2}2\) no - decline\r?\nChoose 1-2 \(comma-separated for several\), or type an answer: $/);
    c.child.stdin!.write("7\r");
    await c.waitFor(/expected a number from 1 to 2, or an answer in words\r?\nChoose 1-2 [^]*: $/);
    c.child.stdin!.write("2\r");
    expect(await asked).toEqual({ answered: true, selected: ["no"] });
    c.child.stdin!.write("\u0003");
    expect(await c.exit).toBe(130);
    expect(c.out()).toMatch(/\^C canceled\r?\n$/);
  });

  it("a real ask_user call of a scripted agent is answered by number at the prompt", async () => {
    const steps = [
      {
        pack_tool: {
          name: "ask_user",
          input: { question: "{{1}}", options: [{ label: "yes" }, { label: "no", description: "decline" }], timeout_seconds: 30 },
          emit: "none",
        },
      },
      { text: "You answered: {{last_result}}" },
      { done: true },
    ];
    await startAgent("pty-ask-real", { rules: [{ match: "/^ask (.+)$/i", steps }] }, ["-capabilities", "chat,ui"]);
    const c = chatInPty(["pty-ask-real", "ask Proceed?"]);
    await c.waitFor(/Proceed\?\r?\n {2}1\) yes\r?\n {2}2\) no - decline\r?\nChoose 1-2 \(comma-separated for several\), or type an answer: $/);
    c.child.stdin!.write("2\r");
    expect(await c.exit).toBe(0);
    expect(c.out()).toMatch(/You answered: .*no/);
  });
});
