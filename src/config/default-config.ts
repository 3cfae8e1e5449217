// ABOUTME: The embedded defaults as a ready GatewayConfig (config spec §4), for "no config file" mode and tests.
// ABOUTME: The database lives under the XDG data directory; both listeners are loopback-only; auth is off.

import path from "node:path";
import { buildConfig } from "./build-config.js";
import { deepFreeze } from "./deep-freeze.js";
import { defaultDataDir } from "./paths.js";
import { defaultSettings, type Settings } from "./schema.js";
import type { GatewayConfig } from "./types.js";

/** The embedded default settings for this environment (database under `defaultDataDir`). */
export function defaultSettingsFor(env: NodeJS.ProcessEnv, homeDir?: string): Settings {
  return defaultSettings(path.join(defaultDataDir(env, homeDir), "gateway.db"));
}

/**
 * The embedded defaults as a deep-frozen GatewayConfig. Ignores COVEN_DB_PATH and every other override
 * (use loadConfig for the effective config). Never throws.
 */
export function defaultConfig(env: NodeJS.ProcessEnv, homeDir?: string): GatewayConfig {
  return deepFreeze(buildConfig(defaultSettingsFor(env, homeDir), () => {}));
}
