// ABOUTME: Links this package's own executables into node_modules/.bin after the build (run by `npm run prepare`).
// ABOUTME: npx only looks there, so without it `npx coven-gateway serve` would not work from the repo root.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, unlinkSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: Record<string, string> };
const binDir = join(root, "node_modules", ".bin");
mkdirSync(binDir, { recursive: true });
for (const [name, target] of Object.entries(pkg.bin)) {
  const targetPath = join(root, target);
  if (!existsSync(targetPath)) {
    process.stderr.write(`link-local-bins: ${target} does not exist (build first)\n`);
    process.exitCode = 1;
    continue;
  }
  chmodSync(targetPath, 0o755);
  const link = join(binDir, name);
  try {
    if (lstatSync(link)) unlinkSync(link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  symlinkSync(relative(binDir, targetPath), link);
}
