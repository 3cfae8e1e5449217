// ABOUTME: The lock file beside the database: a live holder (a real child process, or a running gateway) refuses
// ABOUTME: the next opener with its pid; a dead holder's lock is taken over; release removes the file.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireDatabaseLock } from "../../src/store/database-lock.js";
import { startTestGateway } from "../support/gateway-harness.js";
import { makeTempDir } from "./temp-database.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("acquireDatabaseLock", () => {
  it("writes this pid to <db>.lock with mode 0600 and removes it on release", () => {
    const db = join(tempDir(), "gateway.db");
    const lock = acquireDatabaseLock(db);
    expect(lock.path).toBe(`${db}.lock`);
    expect(readFileSync(lock.path, "utf8")).toBe(`${process.pid}\n`);
    expect(statSync(lock.path).mode & 0o777).toBe(0o600);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    acquireDatabaseLock(db).release();
  });

  it("refuses while a live process holds the lock, naming its pid", async () => {
    const db = join(tempDir(), "gateway.db");
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    cleanups.push(() => {
      holder.kill("SIGKILL");
    });
    await new Promise((r) => holder.once("spawn", r));
    writeFileSync(`${db}.lock`, `${holder.pid}\n`);
    expect(() => acquireDatabaseLock(db)).toThrow(`database ${db} is in use by another gateway (pid ${holder.pid})`);
    expect(readFileSync(`${db}.lock`, "utf8")).toBe(`${holder.pid}\n`);
  });

  it("takes over a lock left by a dead process", () => {
    const db = join(tempDir(), "gateway.db");
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    writeFileSync(`${db}.lock`, `${dead.stdout}\n`);
    const lock = acquireDatabaseLock(db);
    expect(readFileSync(lock.path, "utf8")).toBe(`${process.pid}\n`);
    lock.release();
  });
});

describe("gateway start", () => {
  it("refuses a second gateway on the same database file and frees the file on stop", async () => {
    const dir = tempDir();
    const first = await startTestGateway({ dir });
    cleanups.push(() => first.stop());
    await expect(startTestGateway({ dir })).rejects.toThrow(`is in use by another gateway (pid ${process.pid})`);
    await first.stop();
    expect(existsSync(`${first.dbPath}.lock`)).toBe(false);
    const second = await startTestGateway({ dir });
    await second.stop();
  });
});
