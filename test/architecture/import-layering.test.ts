// ABOUTME: Keeps the import layering of shared/STYLE.md true by scanning every import specifier under src/ and cmd/.
// ABOUTME: Domain folders never import edges, frameworks or generated code; edges never import each other.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Which src/ folders each folder may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  lib: [],
  config: ["lib"],
  store: ["lib"],
  auth: ["lib", "config", "store"],
  agent: ["lib", "config", "store", "auth"],
  conversation: ["lib", "store", "agent", "config"],
  packs: ["lib", "store", "agent", "conversation", "config"],
  ops: ["lib", "config", "store"],
  rpc: ["lib", "config", "store", "auth", "agent", "conversation", "packs", "ops", "gen"],
  http: ["lib", "config", "store", "auth", "agent", "conversation", "packs", "ops"],
  mcp: ["lib", "packs", "auth"],
  webadmin: ["lib", "config", "store", "auth", "agent", "conversation", "packs", "ops"],
  ws: ["lib", "config", "store", "auth", "agent", "conversation", "packs", "ops"],
  gateway: ["lib", "config", "store", "auth", "agent", "conversation", "packs", "ops", "rpc", "http", "mcp", "webadmin", "ws"],
  gen: [],
};

const DOMAIN = ["lib", "config", "store", "auth", "agent", "conversation", "packs", "ops"];
const FRAMEWORKS = ["fastify", "@fastify/", "@grpc/", "@connectrpc/", "@modelcontextprotocol/", "@bufbuild/"];

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs: string[] = [];
  const re = /(?:import|export)\s[^"']*?from\s+["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)/g;
  for (const match of text.matchAll(re)) specs.push((match[1] ?? match[2]) as string);
  return specs;
}

function srcFolderOf(path: string): string | undefined {
  const rel = relative(join(ROOT, "src"), path);
  if (rel.startsWith("..")) return undefined;
  return rel.split(/[\\/]/)[0];
}

/** The web admin's page templates: top-level `web-admin/templates`, imported only by src/webadmin. */
const TEMPLATES = join(ROOT, "web-admin", "templates");

function isTemplate(path: string): boolean {
  return !relative(TEMPLATES, path).startsWith("..");
}

describe("import layering (STYLE.md)", () => {
  const files = walk(join(ROOT, "src")).filter((f) => srcFolderOf(f) !== "gen");

  it("finds the source tree", () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it("every src folder imports only the folders below it", () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = srcFolderOf(file) as string;
      const allowed = ALLOWED[from];
      if (!allowed) {
        violations.push(`${relative(ROOT, file)}: folder src/${from} is not in the layering table`);
        continue;
      }
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) continue;
        const target = srcFolderOf(resolve(dirname(file), spec));
        if (target === undefined && from === "webadmin" && isTemplate(resolve(dirname(file), spec))) continue;
        if (target === undefined) {
          violations.push(`${relative(ROOT, file)} imports outside src/: ${spec}`);
        } else if (target !== from && !allowed.includes(target)) {
          violations.push(`${relative(ROOT, file)} (src/${from}) imports src/${target}: ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("domain folders import no transport framework or generated code", () => {
    const violations: string[] = [];
    for (const file of files) {
      if (!DOMAIN.includes(srcFolderOf(file) as string)) continue;
      for (const spec of importsOf(file)) {
        if (FRAMEWORKS.some((f) => spec === f || spec.startsWith(f))) violations.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("scans src/packs, src/mcp, src/webadmin, src/ws and src/ops", () => {
    for (const folder of ["packs", "mcp", "webadmin", "ws", "ops"]) expect(files.some((f) => srcFolderOf(f) === folder)).toBe(true);
  });

  it("src/webadmin imports no other edge (http, rpc, mcp, ws) and no generated code", () => {
    const violations: string[] = [];
    for (const file of files.filter((f) => srcFolderOf(f) === "webadmin")) {
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) continue;
        const target = srcFolderOf(resolve(dirname(file), spec));
        if (target !== undefined && ["http", "rpc", "mcp", "ws", "gen", "gateway"].includes(target)) {
          violations.push(`${relative(ROOT, file)}: ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("web-admin templates are plain view functions: they import only each other", () => {
    const templates = walk(TEMPLATES);
    expect(templates.length).toBeGreaterThan(3);
    const violations: string[] = [];
    for (const file of templates) {
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".") || !isTemplate(resolve(dirname(file), spec))) violations.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("only src/mcp imports the MCP SDK", () => {
    const violations: string[] = [];
    for (const file of files) {
      if (srcFolderOf(file) === "mcp") continue;
      for (const spec of importsOf(file)) if (spec.startsWith("@modelcontextprotocol/")) violations.push(`${relative(ROOT, file)}: ${spec}`);
    }
    expect(violations).toEqual([]);
  });

  it("only src/rpc imports generated protobuf code (cmd/ clients excepted)", () => {
    const violations: string[] = [];
    for (const file of files) {
      if (srcFolderOf(file) === "rpc") continue;
      for (const spec of importsOf(file)) if (spec.includes("/gen/")) violations.push(`${relative(ROOT, file)}: ${spec}`);
    }
    expect(violations).toEqual([]);
  });

  it("fake-agent uses nothing of the gateway but the generated client code", () => {
    const violations: string[] = [];
    for (const file of walk(join(ROOT, "cmd", "fake-agent"))) {
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) continue;
        const target = resolve(dirname(file), spec);
        const rel = relative(ROOT, target);
        if (rel.startsWith("src") && !rel.startsWith(join("src", "gen"))) violations.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("external packs (packs/) use nothing of the gateway but the generated code, and one another only via packs/sdk", () => {
    const packFiles = walk(join(ROOT, "packs"));
    expect(packFiles.some((f) => relative(ROOT, f).startsWith(join("packs", "sdk")))).toBe(true);
    const violations: string[] = [];
    for (const file of packFiles) {
      const own = relative(join(ROOT, "packs"), file).split(/[\\/]/)[0];
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) continue;
        const rel = relative(ROOT, resolve(dirname(file), spec));
        if (rel.startsWith(join("src", "gen"))) continue;
        const inPacks = rel.startsWith(`packs${rel.includes("\\") ? "\\" : "/"}`);
        const target = inPacks ? rel.split(/[\\/]/)[1] : undefined;
        if (target !== own && target !== "sdk") violations.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("no file-level import cycle in src/ or cmd/ (type-only imports count too)", () => {
    const all = [...walk(join(ROOT, "src")), ...walk(join(ROOT, "cmd")), ...walk(TEMPLATES)];
    const edges = new Map<string, string[]>();
    for (const file of all) {
      const targets: string[] = [];
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) continue;
        const target = resolve(dirname(file), spec).replace(/\.js$/, ".ts");
        if (existsSync(target)) targets.push(target);
      }
      edges.set(file, targets);
    }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const path: string[] = [];
    const visit = (file: string): void => {
      state.set(file, "open");
      path.push(file);
      for (const next of edges.get(file) ?? []) {
        const seen = state.get(next);
        if (seen === "open") {
          cycles.push([...path.slice(path.indexOf(next)), next].map((f) => relative(ROOT, f)).join(" -> "));
        } else if (seen === undefined) {
          visit(next);
        }
      }
      path.pop();
      state.set(file, "done");
    };
    for (const file of all) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it("every source file starts with two ABOUTME lines", () => {
    const missing: string[] = [];
    const all = [...files, ...walk(join(ROOT, "cmd")), ...walk(join(ROOT, "test")), ...walk(TEMPLATES), ...walk(join(ROOT, "packs"))];
    for (const file of all) {
      const lines = readFileSync(file, "utf8").split("\n").filter((l) => !l.startsWith("#!"));
      if (!lines[0]?.startsWith("// ABOUTME: ") || !lines[1]?.startsWith("// ABOUTME: ")) missing.push(relative(ROOT, file));
    }
    expect(missing).toEqual([]);
  });
});
