// ABOUTME: Spells our executables the way they can be run from here: the bare name when it is on $PATH, else the
// ABOUTME: checkout's node_modules/.bin link (or `node <dist file>`), so printed next steps work when pasted.
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export type OwnCommand = "coven-gateway" | "coven-admin" | "fake-agent";

/** The directory holding this package's package.json (the checkout or the installed package). */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "coven-gateway") return dir;
      } catch {
        // An unreadable package.json is not ours; keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && existsSync(join(dir, name)));
}

/** A path as typed at the prompt: relative to `cwd` when inside it, else absolute. */
function typed(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/**
 * How to run `name` from `cwd`: `name` when $PATH has it; else `node_modules/.bin/<name>` of this package (relative
 * to `cwd` when below it); else `node <package>/dist/cmd/<name>.js`.
 */
export function commandFor(name: OwnCommand, env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string {
  if (onPath(name, env)) return name;
  const root = packageRoot();
  if (root === undefined) return name;
  const link = join(root, "node_modules", ".bin", name);
  if (existsSync(link)) return typed(link, cwd);
  return `node ${typed(join(root, "dist", "cmd", `${name}.js`), cwd)}`;
}
