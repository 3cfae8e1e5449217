// ABOUTME: An exclusive lock file beside the database (`<path>.lock`, holding the owner's pid), so a second gateway
// ABOUTME: on the same file is refused with the holder's pid; a lock left by a dead process is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { GatewayError } from "../lib/gateway-error.js";

/** A held lock; release() removes the file and is idempotent. */
export interface DatabaseLock {
  path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Takes `<databasePath>.lock` for this process. Throws GatewayError FAILED_PRECONDITION naming the holder's pid
 * when a live process holds it; a lock whose pid is dead (or unreadable) is replaced.
 */
export function acquireDatabaseLock(databasePath: string, pid = process.pid): DatabaseLock {
  const lockPath = `${databasePath}.lock`;
  mkdirSync(dirname(lockPath), { recursive: true, mode: 0o750 });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(lockPath, `${pid}\n`, { flag: "wx", mode: 0o600 });
      return heldLock(lockPath, pid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = readHolder(lockPath);
    if (holder !== undefined && isAlive(holder)) {
      throw new GatewayError("FAILED_PRECONDITION", `database ${databasePath} is in use by another gateway (pid ${holder}); lock file ${lockPath}`);
    }
    // Stale: its holder died without releasing it. Remove it and try the exclusive create once more.
    rmSync(lockPath, { force: true });
  }
  throw new GatewayError("FAILED_PRECONDITION", `database ${databasePath}: another process keeps taking lock file ${lockPath}`);
}

function heldLock(lockPath: string, pid: number): DatabaseLock {
  let held = true;
  return {
    path: lockPath,
    release(): void {
      if (!held) return;
      held = false;
      if (readHolder(lockPath) === pid) rmSync(lockPath, { force: true });
    },
  };
}
