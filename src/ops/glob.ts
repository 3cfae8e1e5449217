// ABOUTME: Whole-string globs for guard tool names, rate-card agents/backends and budget ids (ops.md §3.1, §4).
// ABOUTME: `*` matches any run of characters, `?` exactly one; everything else literally, case-sensitive.

/** Compiles a glob into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const ch of glob) {
    if (ch === "*") source += "[\\s\\S]*";
    else if (ch === "?") source += "[\\s\\S]";
    else source += ch.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "u");
}

/** True when `glob` contains a wildcard. */
export function isGlob(glob: string): boolean {
  return glob.includes("*") || glob.includes("?");
}

/** A matcher over several globs: true when any matches the whole value. */
export function globMatcher(globs: readonly string[]): (value: string) => boolean {
  const res = globs.map(globToRegExp);
  return (value) => res.some((re) => re.test(value));
}
