// ABOUTME: Go-flag-style parsing of the fake-agent command line: both dash styles, defaults, and bad values.
// ABOUTME: Bad input must raise UsageError with exit code 2; -h raises it with exit code 0.
import { describe, expect, it } from "vitest";
import { parseFakeAgentArgs, UsageError } from "../../cmd/fake-agent/fake-agent.js";

function usageError(argv: string[]): UsageError {
  try {
    parseFakeAgentArgs(argv, {});
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error("expected a UsageError");
}

describe("parseFakeAgentArgs", () => {
  it("applies the §4.1 defaults", () => {
    expect(parseFakeAgentArgs([], {})).toEqual({
      addr: "localhost:50051",
      name: "Echo Agent",
      id: "e2e-echo-agent",
      capabilities: ["chat", "echo"],
      workdir: "/tmp/fake-agent",
      backend: "direct",
      workspaces: [],
      features: [],
      token: undefined,
      chunks: 1,
      chunkDelayMs: 0,
      doneDelayMs: 50,
      heartbeatMs: 0,
      reconnect: false,
      instances: 1,
    });
  });

  it("takes -token from COVEN_TOKEN unless the flag is given", () => {
    expect(parseFakeAgentArgs([], { COVEN_TOKEN: "env-jwt" }).token).toBe("env-jwt");
    expect(parseFakeAgentArgs(["-token", "flag-jwt"], { COVEN_TOKEN: "env-jwt" }).token).toBe("flag-jwt");
    expect(parseFakeAgentArgs([], { COVEN_TOKEN: "" }).token).toBeUndefined();
  });

  it("accepts one or two dashes and both value forms", () => {
    const args = parseFakeAgentArgs(
      [
        "-addr", "127.0.0.1:9", "--name=Bench", "--id", "a1", "-capabilities=chat,ui, base ,", "-workdir", "/w",
        "--backend=mux", "-workspaces", "one,two", "--features", "cancellation,injection", "-ssh-key=/k",
        "-script", "/s.json", "-chunks=3", "--chunk-delay-ms", "7", "-done-delay-ms=0", "-heartbeat-ms", "100",
        "--instances=4", "-events-out", "-",
      ],
      {},
    );
    expect(args).toMatchObject({
      addr: "127.0.0.1:9",
      name: "Bench",
      id: "a1",
      capabilities: ["chat", "ui", "base"],
      workdir: "/w",
      backend: "mux",
      workspaces: ["one", "two"],
      features: ["cancellation", "injection"],
      sshKeyPath: "/k",
      scriptPath: "/s.json",
      chunks: 3,
      chunkDelayMs: 7,
      doneDelayMs: 0,
      heartbeatMs: 100,
      instances: 4,
      eventsOut: "-",
    });
  });

  it("parses booleans like Go: bare, =true, =false, =1", () => {
    expect(parseFakeAgentArgs(["-reconnect"], {}).reconnect).toBe(true);
    expect(parseFakeAgentArgs(["--reconnect=true"], {}).reconnect).toBe(true);
    expect(parseFakeAgentArgs(["-reconnect=1"], {}).reconnect).toBe(true);
    expect(parseFakeAgentArgs(["-reconnect", "-reconnect=false"], {}).reconnect).toBe(false);
  });

  it("allows an empty comma list", () => {
    expect(parseFakeAgentArgs(["-capabilities="], {}).capabilities).toEqual([]);
  });

  it.each([
    [["-bogus"], "flag provided but not defined: -bogus"],
    [["-chunks"], "flag needs an argument: -chunks"],
    [["-chunks", "x"], 'invalid value "x" for flag -chunks: parse error'],
    [["-chunks=0"], 'invalid value "0" for flag -chunks: must be at least 1'],
    [["-instances", "0"], 'invalid value "0" for flag -instances: must be at least 1'],
    [["-chunk-delay-ms=-1"], 'invalid value "-1" for flag -chunk-delay-ms: must be at least 0'],
    [["-heartbeat-ms", "1.5"], 'invalid value "1.5" for flag -heartbeat-ms: parse error'],
    [["-reconnect=maybe"], 'invalid boolean value "maybe" for -reconnect: parse error'],
    [["---addr", "x"], "bad flag syntax: ---addr"],
    [["-=x"], "bad flag syntax: -=x"],
    [["stray"], "unexpected argument: stray"],
    [["-reconnect", "false"], "unexpected argument: false"],
  ])("rejects %j with exit 2", (argv, message) => {
    const err = usageError(argv);
    expect(err.message).toBe(message);
    expect(err.exitCode).toBe(2);
  });

  it("answers -h / --help with the usage and exit 0", () => {
    for (const flag of ["-h", "--help", "-help"]) {
      const err = usageError([flag]);
      expect(err.exitCode).toBe(0);
      expect(err.message).toContain("-events-out string");
      expect(err.message).toContain("-reconnect\n");
    }
  });
});
