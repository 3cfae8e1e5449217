// ABOUTME: Where the config file and the data directory live (config spec §1, §3.2).
// ABOUTME: Pure functions of the environment and home directory so tests never touch the real ones.

import os from "node:os";
import path from "node:path";

/**
 * The home directory to use: `homeDir` if given ("" means unknown), else `$HOME`, else the OS's idea of it.
 * Tests pass `homeDir` explicitly so the real home is never consulted.
 */
export function resolveHomeDir(env: NodeJS.ProcessEnv, homeDir?: string): string {
  if (homeDir !== undefined) return homeDir;
  if (env.HOME) return env.HOME;
  return os.homedir();
}

/**
 * The config file path: `$COVEN_CONFIG` (non-empty), else `$XDG_CONFIG_HOME/coven/gateway.yaml`,
 * else `<home>/.config/coven/gateway.yaml`, else `gateway.yaml` in the working directory. Never throws.
 */
export function resolveConfigPath(env: NodeJS.ProcessEnv, homeDir?: string): string {
  if (env.COVEN_CONFIG) return env.COVEN_CONFIG;
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, "coven", "gateway.yaml");
  const home = resolveHomeDir(env, homeDir);
  if (home) return path.join(home, ".config", "coven", "gateway.yaml");
  return path.resolve("gateway.yaml");
}

/** True when the path came from `COVEN_CONFIG` (a missing file there is an error, not "use defaults"). */
export function isExplicitConfigPath(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.COVEN_CONFIG);
}

/**
 * The data directory: `$XDG_DATA_HOME/coven`, else `<home>/.local/share/coven`, else the working
 * directory when the home directory is unknown. The default database is `<it>/gateway.db`. Never throws.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv, homeDir?: string): string {
  if (env.XDG_DATA_HOME) return path.join(env.XDG_DATA_HOME, "coven");
  const home = resolveHomeDir(env, homeDir);
  if (home) return path.join(home, ".local", "share", "coven");
  return path.resolve(".");
}
