// ABOUTME: `npm run bench` flags and exit code: counts (`--quick`), where results go (`--write`, `--out`), and
// ABOUTME: whether a FAIL verdict fails the run (`--no-fail`); pure, so tests can hold them without measuring.

export interface BenchSettings {
  warmup: number;
  rounds: number;
  perRound: number;
  chunks: number;
  streamRuns: number;
  agents: number;
  /** Where the results document goes; undefined prints the summary only, leaving the tracked RESULTS.md alone. */
  out: string | undefined;
  /** With `--no-fail`, FAIL verdicts still exit 0. */
  failOnFail: boolean;
  gatewayNodeArgs: string[];
  /** `--metrics-only`: measure only the cost of recording metrics (turns/s with metrics on vs off). */
  metricsOnly: boolean;
}

/**
 * `--quick` shrinks every count for a smoke run; `--write` writes `defaultOut` (bench/RESULTS.md), `--out FILE`
 * writes FILE; `--no-fail` exits 0 despite FAIL verdicts; `--gateway-node-args "ARGS"` (e.g. --cpu-prof);
 * `--metrics-only` measures only the cost of recording metrics.
 */
export function parseBenchArgs(argv: readonly string[], defaultOut: string, resolvePath: (p: string) => string): BenchSettings {
  const settings: BenchSettings = {
    warmup: 100,
    rounds: 5,
    perRound: 80,
    chunks: 20_000,
    streamRuns: 5,
    agents: 1_000,
    out: undefined,
    failOnFail: true,
    gatewayNodeArgs: [],
    metricsOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") Object.assign(settings, { warmup: 20, rounds: 2, perRound: 20, chunks: 2_000, streamRuns: 1, agents: 50 });
    else if (arg === "--write") settings.out = defaultOut;
    else if (arg === "--out") settings.out = resolvePath(argv[++i] ?? "");
    else if (arg === "--no-fail") settings.failOnFail = false;
    else if (arg === "--metrics-only") settings.metricsOnly = true;
    else if (arg === "--gateway-node-args") settings.gatewayNodeArgs = (argv[++i] ?? "").split(" ").filter(Boolean);
    else throw new Error(`unknown argument: ${arg}`);
  }
  return settings;
}

/** 1 when any verdict failed and the run fails on FAIL, else 0. */
export function benchExitCode(verdicts: ReadonlyArray<{ pass: boolean }>, settings: Pick<BenchSettings, "failOnFail">): number {
  return settings.failOnFail && verdicts.some((v) => !v.pass) ? 1 : 0;
}
