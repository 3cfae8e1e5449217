// ABOUTME: Loads gateway.yaml: locate, read, expand ${VAR}, parse, layer over defaults, validate, freeze.
// ABOUTME: Follows config spec §1 step by step; every failure is a ConfigError `<stage>: <detail>`.

import fs from "node:fs";
import { Parser, parseDocument, type Document } from "yaml";
import { silentLogger, type Logger } from "../lib/logger.js";
import { buildConfig, featureWarnings } from "./build-config.js";
import { ConfigError } from "./config-error.js";
import { deepFreeze } from "./deep-freeze.js";
import { defaultSettingsFor } from "./default-config.js";
import { expandEnv, lookupEnv, placeholderNames } from "./expand-env.js";
import { isExplicitConfigPath, resolveConfigPath } from "./paths.js";
import { layerSettings, type Settings } from "./schema.js";
import type { LoadedConfig } from "./types.js";
import { validateConfig } from "./validate-config.js";

export { ConfigError } from "./config-error.js";
export { defaultConfig } from "./default-config.js";
export { defaultDataDir, resolveConfigPath } from "./paths.js";

export interface LoadConfigOptions {
  /** Environment for `${VAR}`, COVEN_* and XDG_* lookups; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Receives the info/warn lines of the load; defaults to silent. */
  readonly log?: Logger;
  /** Home directory ("" = unknown); defaults to $HOME / the OS home. */
  readonly homeDir?: string;
}

const YAML_OPTIONS = { version: "1.2", schema: "core", prettyErrors: true, uniqueKeys: true } as const;

function parseYaml(text: string): Document.Parsed {
  return parseDocument(text, YAML_OPTIONS);
}

/**
 * The first line of a yaml error without its code frame, as "<what> at line L, column C" where L:C is the fault:
 * yaml places an unclosed quote at the end of the file (and its own line numbers can be off by one), so the
 * position is recomputed from the source, moved back to where an unterminated quote or flow collection opens.
 */
function describeYamlError(doc: Document.Parsed, text: string): string | undefined {
  const first = doc.errors[0];
  if (!first) return undefined;
  if (first.code === "MULTIPLE_DOCS") return "the file must contain a single YAML document";
  const what = (first.message.split("\n")[0] ?? first.message).replace(/:$/, "").replace(/ at line \d+, column \d+$/, "");
  const { line, col } = lineAndColumn(text, faultOffset(text, first.pos[0]));
  return `${what} at line ${line}, column ${col}`;
}

/** Where the construct an error complains about opens: the last unterminated quote or flow collection before it. */
function faultOffset(text: string, offset: number): number {
  let opener: number | undefined;
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    const token = node as { type?: string; offset?: number; source?: string; end?: Array<{ source?: string }> };
    if (typeof token.offset === "number" && token.offset <= offset) {
      const quote = token.type === "double-quoted-scalar" ? '"' : token.type === "single-quoted-scalar" ? "'" : undefined;
      if (quote !== undefined && (token.source?.length === 1 || !token.source?.endsWith(quote))) opener = token.offset;
      if (token.type === "flow-collection" && !token.end?.some((e) => e.source === "]" || e.source === "}")) opener = token.offset;
    }
    for (const value of Object.values(node)) visit(value);
  };
  for (const token of new Parser().parse(text)) visit(token);
  return opener ?? offset;
}

function lineAndColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.min(offset, text.length));
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, col: offset - lineStart + 1 };
}

function toPlain(doc: Document.Parsed): unknown {
  try {
    return doc.toJS();
  } catch (err) {
    throw new ConfigError("parsing config file", err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** Reads the file; undefined when it is missing at the default path (spec §1 step 2). */
function readConfigText(path: string, explicit: boolean): string | undefined {
  try {
    return fs.readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !explicit) return undefined;
    throw new ConfigError("reading config file", err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * The placeholder that fed `auth.jwt_secret` in the unexpanded text (spec §2 fail-closed rule): the
 * first of its names that is unset or empty, else its first name. Undefined when the value had no
 * placeholder or the raw text does not parse (then the check is skipped, as the spec says).
 */
function jwtPlaceholder(rawText: string, env: NodeJS.ProcessEnv): string | undefined {
  const doc = parseYaml(rawText);
  if (doc.errors.length > 0) return undefined;
  const secret: unknown = doc.getIn(["auth", "jwt_secret"]);
  if (typeof secret !== "string") return undefined;
  const names = placeholderNames(secret);
  return names.find((name) => !lookupEnv(env, name)) ?? names[0];
}

/**
 * Loads the effective gateway configuration (config spec §1): resolves the path, reads the file or
 * falls back to the embedded defaults, expands `${VAR}`, parses YAML 1.2, layers over defaults, parses
 * durations, applies COVEN_DB_PATH, validates (spec §6) and deep-freezes the result.
 * Warnings go to `log.warn` and to `warnings`. Throws ConfigError (stages `reading config file`,
 * `parsing config file`, `parsing durations`, `validating config`).
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const log = options.log ?? silentLogger;
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    log.warn(message);
  };

  const path = resolveConfigPath(env, options.homeDir);
  const defaults = defaultSettingsFor(env, options.homeDir);
  const rawText = readConfigText(path, isExplicitConfigPath(env));
  let settings: Settings = defaults;
  let placeholder: string | undefined;

  if (rawText === undefined) {
    log.info(`no config file at ${path}; using built-in defaults`);
  } else {
    const expanded = expandEnv(rawText, env);
    for (const name of expanded.unset) {
      warnings.push(`environment variable not set in config var=${name}`);
      log.warn("environment variable not set in config", { var: name });
    }
    const doc = parseYaml(expanded.text);
    const syntaxError = describeYamlError(doc, expanded.text);
    if (syntaxError !== undefined) throw new ConfigError("parsing config file", syntaxError);
    settings = layerSettings(toPlain(doc), defaults, {
      sourceText: (keyPath) => {
        const node: unknown = doc.getIn(keyPath, true);
        return node !== null && typeof node === "object" && "source" in node && typeof node.source === "string"
          ? node.source
          : undefined;
      },
      warn,
    });
    placeholder = jwtPlaceholder(rawText, env);
  }

  const dbOverride = lookupEnv(env, "COVEN_DB_PATH");
  if (dbOverride) settings = { ...settings, "database.path": dbOverride };

  const config = buildConfig(settings, warn);
  for (const message of featureWarnings(config)) warn(message);
  const failure = validateConfig(config, { jwtPlaceholder: placeholder });
  if (failure !== undefined) throw new ConfigError("validating config", failure);

  return { config: deepFreeze(config), path, fromFile: rawText !== undefined, warnings };
}
