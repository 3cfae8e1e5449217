// ABOUTME: Where a pack connects and with what credential (packs-mcp.md §7): the same env vars as coven-admin.
// ABOUTME: COVEN_GATEWAY_GRPC, else COVEN_GATEWAY_HOST:50051, else localhost:50051; COVEN_TOKEN, else the token file.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface PackConnection {
  address: string;
  /** Sent as `authorization: Bearer <token>`; undefined means none (auth off). */
  token: string | undefined;
  /** COVEN_PACK_ID, when set, replaces the pack's default id. */
  packIdOverride: string | undefined;
}

/** Reads the connection settings from `env` (and the token file). */
export function packConnectionFrom(env: NodeJS.ProcessEnv): PackConnection {
  const address = nonEmpty(env.COVEN_GATEWAY_GRPC) ?? (nonEmpty(env.COVEN_GATEWAY_HOST) ? `${env.COVEN_GATEWAY_HOST}:50051` : "localhost:50051");
  return { address, token: nonEmpty(env.COVEN_TOKEN) ?? tokenFile(env), packIdOverride: nonEmpty(env.COVEN_PACK_ID) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function tokenFile(env: NodeJS.ProcessEnv): string | undefined {
  const base = nonEmpty(env.XDG_CONFIG_HOME) ?? join(nonEmpty(env.HOME) ?? homedir(), ".config");
  try {
    return nonEmpty(readFileSync(join(base, "coven", "token"), "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
