// ABOUTME: The gateway's package version, read from package.json at run time (source and dist layouts).
// ABOUTME: One reader for the CLI banner, the web admin footer, metrics build info and WebSocket `hello-ok`.
import { createRequire } from "node:module";

/** The `version` of package.json, or `0.0.0` when it cannot be found. */
export function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ["../../package.json", "../../../package.json"]) {
    try {
      return (require(candidate) as { version: string }).version;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw err;
    }
  }
  return "0.0.0";
}
