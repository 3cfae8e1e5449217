// ABOUTME: `npm run bench` flags and exit code: counts (`--quick`), where results go (`--write`, `--out`), and
// ABOUTME: whether a FAIL verdict fails the run (`--no-fail`); pure, so tests can hold them without measuring.

export interface BenchSettings {
  warmup: number;
  rounds: number;
  perRound: number;
  chunks: number;
  streamRuns: number;
  /** Where the results document goes; undefined prints the summary only, leaving the tracked RESULTS.md alone. */
  out: string | undefined;
  /** With `--no-fail`, FAIL verdicts still exit 0. */
  failOnFail: boolean;
  gatewayNodeArgs: string[];
  /** `--metrics-only`: measure only the cost of recording metrics (turns/s with metrics on vs off). */
  metricsOnly: boolean;
  /** `--only a,b`: run only these figures (see FIGURES); undefined runs all. */
  only: ReadonlySet<Figure> | undefined;
  /** Figure 1: agents, concurrent clients, warm-up and measured seconds per side. */
  throughput: { agents: number; clients: number; warmupMs: number; durationMs: number };
  /** Figure 3: idle agents wanted, and how many per agent process. */
  scale: { agents: number; perProcess: number; idleMs: number; settleMs: number };
  /** Figure 4: ledger events replayed. */
  replayEvents: number;
  /**
   * Figure 5: turns (with --quick at most `maxSeconds` worth at the rate, at least 1,000; `--soak-turns` is exact),
   * and the rate as a fraction of figure 1's gateway turns/s (`--soak-rate N` fixes it).
   */
  soak: { turns: number; fraction: number; rate: number | undefined; maxSeconds: number | undefined };
  quick: boolean;
  /** `--note TEXT`: a line about the run (e.g. "shared machine") printed under Machine in RESULTS.md. */
  note: string | undefined;
}

/** The figures `--only` can pick: the original ones and the five of issue 10. */
export const FIGURES = ["latency", "stream", "metrics", "throughput", "scale", "replay", "soak"] as const;
export type Figure = (typeof FIGURES)[number];

/** Whether `figure` runs under these settings. */
export function runs(settings: Pick<BenchSettings, "only">, figure: Figure): boolean {
  return settings.only === undefined || settings.only.has(figure);
}

/**
 * `--quick` shrinks every count for a smoke run; `--write` writes `defaultOut` (bench/RESULTS.md), `--out FILE`
 * writes FILE; `--no-fail` exits 0 despite FAIL verdicts; `--gateway-node-args "ARGS"` (e.g. --cpu-prof);
 * `--metrics-only` measures only the cost of recording metrics; `--only throughput,soak` runs only those figures
 * (FIGURES); `--soak-rate N` and `--soak-turns N` fix the soak's rate and length (after `--quick`); `--note TEXT`.
 */
export function parseBenchArgs(argv: readonly string[], defaultOut: string, resolvePath: (p: string) => string): BenchSettings {
  const settings: BenchSettings = {
    warmup: 100,
    rounds: 5,
    perRound: 80,
    chunks: 20_000,
    streamRuns: 5,
    out: undefined,
    failOnFail: true,
    gatewayNodeArgs: [],
    metricsOnly: false,
    only: undefined,
    throughput: { agents: 100, clients: 200, warmupMs: 3_000, durationMs: 20_000 },
    scale: { agents: 20_000, perProcess: 5_000, idleMs: 5_000, settleMs: 10_000 },
    replayEvents: 100_000,
    soak: { turns: 500_000, fraction: 0.7, rate: undefined, maxSeconds: undefined },
    quick: false,
    note: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") {
      Object.assign(settings, { warmup: 20, rounds: 2, perRound: 20, chunks: 2_000, streamRuns: 1, replayEvents: 20_000 });
      settings.throughput = { ...settings.throughput, warmupMs: 1_000, durationMs: 4_000 };
      settings.scale = { ...settings.scale, agents: 1_000, perProcess: 500, idleMs: 2_000, settleMs: 2_000 };
      settings.soak = { ...settings.soak, turns: 10_000, maxSeconds: 6 };
      settings.quick = true;
    } else if (arg === "--note") settings.note = argv[++i] ?? ""; else if (arg === "--only") {
      const names = (argv[++i] ?? "").split(",").filter(Boolean);
      for (const name of names) if (!(FIGURES as readonly string[]).includes(name)) throw new Error(`unknown figure: ${name} (one of ${FIGURES.join(", ")})`);
      settings.only = new Set(names as Figure[]);
    } else if (arg === "--soak-rate") {
      const rate = Number(argv[++i]);
      if (!(rate > 0)) throw new Error("--soak-rate needs a positive number of turns per second");
      settings.soak = { ...settings.soak, rate };
    } else if (arg === "--soak-turns") {
      const turns = Number(argv[++i]);
      if (!Number.isInteger(turns) || turns < 10) throw new Error("--soak-turns needs an integer of at least 10");
      settings.soak = { ...settings.soak, turns, maxSeconds: undefined };
    }
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
