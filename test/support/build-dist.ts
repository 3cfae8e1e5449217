// ABOUTME: Builds dist/ (tsconfig.build.json) for tests that spawn the built CLIs: asynchronously, one build at a time
// ABOUTME: across vitest's forked workers, and skipped when another worker's build started after this one was asked for.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const ROOT = resolve(import.meta.dirname, "../..");
const TMP = join(ROOT, ".tmp");
const LOCK = join(TMP, "dist-build.lock");
const STAMP = join(TMP, "dist-build-started-at");
/** A lock older than this belongs to a worker that died mid-build. */
const STALE_LOCK_MS = 10 * 60_000;
/** The hook timeout a caller should give `buildDist` (a full tsc build on a loaded two-core machine). */
export const BUILD_DIST_TIMEOUT_MS = 300_000;

const run = promisify(execFile);

async function takeLock(): Promise<void> {
  mkdirSync(TMP, { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function lastBuildStart(): number {
  try {
    return Number(readFileSync(STAMP, "utf8"));
  } catch {
    return 0;
  }
}

/** Compiles the sources as they are now into dist/; a synchronous build would starve the worker's RPC with vitest. */
export async function buildDist(): Promise<void> {
  const askedAt = Date.now();
  await takeLock();
  try {
    // A build that started after we asked compiled the same sources: nothing to do.
    if (lastBuildStart() >= askedAt) return;
    const startedAt = Date.now();
    await run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json")], { cwd: ROOT });
    writeFileSync(STAMP, String(startedAt));
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
