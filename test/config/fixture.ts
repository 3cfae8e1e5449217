// ABOUTME: Test helper for the config tests: temp directories and config files, explicit env, recorded logs.
// ABOUTME: Nothing here reads the real process env or home directory.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createMemoryLogger } from "../../src/lib/logger.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { LoadedConfig } from "../../src/config/types.js";

export interface ConfigFixture {
  readonly dir: string;
  /** A home directory inside `dir` (nothing in it unless a test writes there). */
  readonly home: string;
  /** Writes `text` to `<dir>/<name>` and returns the path. */
  write(text: string, name?: string): string;
  /** Removes `dir`. */
  cleanup(): void;
}

export function createConfigFixture(): ConfigFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coven-config-"));
  const home = path.join(dir, "home");
  fs.mkdirSync(home);
  return {
    dir,
    home,
    write(text, name = "gateway.yaml") {
      const file = path.join(dir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type MemoryLogger = ReturnType<typeof createMemoryLogger>;

/** Writes `text` as the config file and loads it with COVEN_CONFIG pointing at it plus `env`. */
export function loadText(
  fx: ConfigFixture,
  text: string,
  env: NodeJS.ProcessEnv = {},
): LoadedConfig & { log: MemoryLogger } {
  const file = fx.write(text);
  const log = createMemoryLogger();
  const loaded = loadConfig({ env: { COVEN_CONFIG: file, XDG_DATA_HOME: path.join(fx.dir, "data"), ...env }, log, homeDir: fx.home });
  return { ...loaded, log };
}

/** Loads `text` and returns the thrown error's message (fails the test if nothing is thrown). */
export function loadError(fx: ConfigFixture, text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadText(fx, text, env);
  } catch (err) {
    if (err instanceof Error) return err.message;
    throw err;
  }
  throw new Error("expected the config load to fail");
}

/** A 44-character secret like the ones bootstrap generates. */
export const GOOD_SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=";
