// ABOUTME: `${VAR}` expansion over the raw config text, before YAML parsing (config spec §2).
// ABOUTME: Unset or empty variables become "" and are reported so the loader can warn about them.

/** The placeholder pattern: `${` + one or more non-`}` characters + `}`; the capture is the name, untrimmed. */
export const PLACEHOLDER_PATTERN = /\$\{([^}]+)\}/g;

export interface ExpandResult {
  /** The text with every placeholder replaced, exactly once (inserted values are not re-expanded). */
  readonly text: string;
  /** Names that were unset or empty, each once, in order of first appearance. */
  readonly unset: readonly string[];
}

/** Looks a variable up without reaching inherited properties of a plain-object env. */
export function lookupEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (!Object.hasOwn(env, name)) return undefined;
  const value = env[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Replaces every `${NAME}` in `text` (comments included) with `env[NAME]`, or "" when unset/empty.
 * No defaults (`${A:-b}` looks up the name `A:-b`), no `$VAR`, no escapes. Never throws.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): ExpandResult {
  const unset: string[] = [];
  const expanded = text.replace(PLACEHOLDER_PATTERN, (_match, name: string) => {
    const value = lookupEnv(env, name);
    if (value === undefined || value === "") {
      if (!unset.includes(name)) unset.push(name);
      return "";
    }
    return value;
  });
  return { text: expanded, unset };
}

/** The placeholder names in `text`, in order (duplicates kept). */
export function placeholderNames(text: string): string[] {
  return Array.from(text.matchAll(PLACEHOLDER_PATTERN), (m) => m[1] ?? "");
}
