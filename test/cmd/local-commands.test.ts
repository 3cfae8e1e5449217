// ABOUTME: How printed next steps spell our executables: the bare name when $PATH has it, else the checkout's
// ABOUTME: node_modules/.bin link relative to the working directory, or absolute from elsewhere.
import { afterAll, describe, expect, it } from "vitest";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { commandFor } from "../../cmd/coven-gateway/local-commands.js";

const dir = mkdtempSync(join(tmpdir(), "coven-cmds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = resolve(import.meta.dirname, "../..");

describe("commandFor", () => {
  it("uses the bare name when an executable of that name is on $PATH", () => {
    writeFileSync(join(dir, "coven-admin"), "#!/bin/sh\n");
    chmodSync(join(dir, "coven-admin"), 0o755);
    expect(commandFor("coven-admin", { PATH: `/nonexistent:${dir}` }, root)).toBe("coven-admin");
  });

  it("otherwise names the checkout's node_modules/.bin link, relative inside the checkout and absolute outside", () => {
    expect(commandFor("coven-gateway", { PATH: "/nonexistent" }, root)).toBe("node_modules/.bin/coven-gateway");
    expect(commandFor("fake-agent", {}, dir)).toBe(join(root, "node_modules", ".bin", "fake-agent"));
  });
});
