// ABOUTME: The pack lifecycle of packs-mcp.md §7, written once: register, dispatch requests concurrently, answer with
// ABOUTME: ToolResult, reconnect with backoff, exit 2 on a tool collision, 3 on auth failures, 0 after SIGINT/SIGTERM.
import * as grpc from "@grpc/grpc-js";
import { createPackServiceClient, toolDefinition, type ToolRequest } from "./pack-client.js";
import { packConnectionFrom } from "./pack-config.js";

/** One tool a pack offers. The handler's return value is sent as JSON; a thrown Error's message is the tool error. */
export interface PackTool {
  name: string;
  description: string;
  /** A JSON Schema object (`{"type":"object",...}`). */
  inputSchema: object;
  requiredCapabilities?: string[];
  /** The gateway's timeout for this tool; 0 or absent means its 30 s default. */
  timeoutSeconds?: number;
  handler(input: Record<string, unknown>, context: { requestId: string }): unknown;
}

export interface PackDefinition {
  packId: string;
  version: string;
  tools: PackTool[];
}

export interface PackRunOptions {
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Backoff bounds (tests shorten them): first delay, cap, and how long a stream must live to reset it. */
  backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
}

export interface PackRunner {
  /** Runs until a fatal status (resolves 2 or 3) or `stop()` (resolves 0). */
  run(): Promise<number>;
  /** Cancels the stream, waits up to 5 s for handlers in flight, and makes `run` resolve 0. */
  stop(): Promise<void>;
}

const DRAIN_MS = 5_000;

/** Builds a runner for `pack`; nothing connects until `run`. */
export function createPackRunner(pack: PackDefinition, options: PackRunOptions = {}): PackRunner {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };
  const connection = packConnectionFrom(env);
  const packId = connection.packIdOverride ?? pack.packId;
  const tools = new Map(pack.tools.map((t) => [t.name, t]));
  const metadata = new grpc.Metadata();
  if (connection.token !== undefined) metadata.set("authorization", `Bearer ${connection.token}`);
  const client = createPackServiceClient(connection.address);
  const inFlight = new Set<Promise<void>>();
  let stream: grpc.ClientReadableStream<ToolRequest> | undefined;
  let isStopping = false;
  let draining: Promise<void> | undefined;
  let wake: () => void = () => {};

  const answer = async (request: ToolRequest) => {
    const tool = tools.get(request.toolName);
    let result: { outputJson: string } | { error: string };
    if (!tool) result = { error: `unknown tool ${request.toolName}` };
    else {
      try {
        const input = request.inputJson.trim() === "" ? {} : (JSON.parse(request.inputJson) as Record<string, unknown>);
        const output = await tool.handler(input, { requestId: request.requestId });
        result = { outputJson: JSON.stringify(output) };
      } catch (err) {
        result = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    try {
      await client.toolResult(request.requestId, result, metadata);
    } catch (err) {
      log(`sending result for ${request.requestId} failed: ${(err as Error).message}`);
    }
  };

  /** One Register stream, until it ends; resolves its final status. */
  const connectOnce = () =>
    new Promise<grpc.StatusObject>((resolve) => {
      const call = client.register({ packId, version: pack.version, tools: pack.tools.map(toolDefinition) }, metadata);
      stream = call;
      call.on("metadata", () => log(`registered ${packId} (${pack.tools.length} tools)`));
      call.on("data", (request: ToolRequest) => {
        const task = answer(request).finally(() => inFlight.delete(task));
        inFlight.add(task);
      });
      call.on("error", () => {});
      call.on("status", resolve);
    });

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  return {
    async run() {
      let delay = backoff.initialMs;
      try {
        while (!isStopping) {
          const startedAt = Date.now();
          const status = await connectOnce();
          if (isStopping) break;
          if (status.code === grpc.status.ALREADY_EXISTS && status.details.startsWith("tool collision:")) {
            log(`fatal: ${status.details}`);
            return 2;
          }
          if (status.code === grpc.status.UNAUTHENTICATED || status.code === grpc.status.PERMISSION_DENIED) {
            log(`fatal: ${status.details}`);
            return 3;
          }
          if (Date.now() - startedAt >= backoff.resetAfterMs) delay = backoff.initialMs;
          const jittered = Math.round(delay * (0.5 + Math.random() / 2));
          log(`stream ended (${grpc.status[status.code]}: ${status.details}); reconnecting in ${jittered} ms`);
          await sleep(jittered);
          delay = Math.min(delay * 2, backoff.maxMs);
        }
        return 0;
      } finally {
        // Handlers still running get their ToolResult out before the channel closes.
        if (draining) await draining;
        client.close();
      }
    },
    stop() {
      draining ??= (async () => {
        isStopping = true;
        stream?.cancel();
        wake();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, DRAIN_MS);
          }),
        ]);
        clearTimeout(timer);
      })();
      return draining;
    },
  };
}

/**
 * The main of a pack process: runs `pack`, stops cleanly on SIGINT/SIGTERM (exit 0), and exits 2 or 3 on the
 * fatal statuses.
 */
export function runPackMain(pack: PackDefinition, options: PackRunOptions = {}): void {
  const runner = createPackRunner(pack, options);
  let isStopping = false;
  const onSignal = () => {
    if (isStopping) return;
    isStopping = true;
    void runner.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  runner.run().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`pack failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
