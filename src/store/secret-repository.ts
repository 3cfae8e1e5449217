// ABOUTME: Env-var secrets (store.md §4 secrets): global rows overlaid by per-agent rows, validated on write.
// ABOUTME: Feeds the Welcome's effective secrets and the web admin's secrets page; values are plaintext.
import { randomUUID } from "node:crypto";
import { sql, type Selectable } from "kysely";
import { GatewayError } from "../lib/gateway-error.js";
import type { SecretRow } from "./schema.js";
import type { StoreExecutor } from "./transaction.js";

/** Longest key accepted, in characters. */
export const MAX_SECRET_KEY_LENGTH = 256;
/** Largest value accepted, in UTF-8 bytes (64 KiB). */
export const MAX_SECRET_VALUE_BYTES = 65536;

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INVALID_KEY =
  "Key must be a valid environment variable name (letters, digits, underscores, starting with letter or underscore)";
const VALUE_TOO_LONG = "Value exceeds maximum length (64KB)";

/** A stored secret. */
export interface Secret {
  id: string;
  key: string;
  value: string;
  /** A connection agent_id; undefined for a global secret. */
  agentId: string | undefined;
  createdAt: string;
  updatedAt: string;
  createdBy: string | undefined;
}

export interface NewSecret {
  key: string;
  value: string;
  /** The agent the secret is scoped to; undefined, null or `""` means global. */
  agentId?: string | null;
  /** Actor string (`webadmin:<id>`, `cli`, …). */
  createdBy: string | null;
  /** Normalised ISO timestamp. */
  now: string;
}

export interface UpsertResult {
  secret: Secret;
  /** True when a new row was written, false when an existing (key, scope) row got the new value. */
  created: boolean;
}

export interface SecretRepository {
  /** Global secrets overlaid by the rows of `agentId`, as a key → value map. */
  effectiveSecrets(agentId: string): Promise<Record<string, string>>;
  /**
   * Creates the secret, or replaces the value (and updated_at) of the one with the same (key, scope); its id,
   * created_at and created_by stay. Throws GatewayError INTERNAL if the upsert returns no row (impossible).
   */
  upsert(input: NewSecret): Promise<UpsertResult>;
  /** Creates the secret; undefined when the (key, scope) is already taken (nothing is written). */
  insert(input: NewSecret): Promise<Secret | undefined>;
  /** Replaces the value of secret `id`; undefined when unknown. */
  updateValue(id: string, value: string, now: string): Promise<Secret | undefined>;
  findById(id: string): Promise<Secret | undefined>;
  /** Deletes secret `id`; true when it existed. */
  delete(id: string): Promise<boolean>;
  /** Every secret, ordered by key, then scope (global first, then agent id). */
  list(): Promise<Secret[]>;
}

/**
 * Checks a secret key: `^[A-Za-z_][A-Za-z0-9_]*$`, at most 256 chars. Throws GatewayError INVALID_ARGUMENT with
 * the web admin's text (web-admin.md §5.9).
 */
export function validateSecretKey(key: string): void {
  if (key.length > MAX_SECRET_KEY_LENGTH || !KEY_RE.test(key)) throw new GatewayError("INVALID_ARGUMENT", INVALID_KEY);
}

/** Checks a secret value: at most 65536 UTF-8 bytes. Throws GatewayError INVALID_ARGUMENT `Value exceeds maximum length (64KB)`. */
export function validateSecretValue(value: string): void {
  if (Buffer.byteLength(value, "utf8") > MAX_SECRET_VALUE_BYTES) throw new GatewayError("INVALID_ARGUMENT", VALUE_TOO_LONG);
}

function toSecret(row: Selectable<SecretRow>): Secret {
  return {
    id: row.id,
    key: row.key,
    value: row.value,
    agentId: row.agent_id ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by ?? undefined,
  };
}

function newRow(input: NewSecret): SecretRow {
  validateSecretKey(input.key);
  validateSecretValue(input.value);
  return {
    id: randomUUID(),
    key: input.key,
    value: input.value,
    agent_id: input.agentId === undefined || input.agentId === null || input.agentId === "" ? null : input.agentId,
    created_at: input.now,
    updated_at: input.now,
    created_by: input.createdBy,
  };
}

/**
 * Creates the secret repository over `db` (the database or a transaction, see transaction.ts). Writes throw
 * GatewayError INVALID_ARGUMENT for an invalid key or an oversized value; other failures are driver errors,
 * which edges report as INTERNAL.
 */
export function createSecretRepository(db: StoreExecutor): SecretRepository {
  /** `INSERT … ON CONFLICT` against the partial unique index of the row's scope. */
  const insertRow = (row: SecretRow, replace: boolean) =>
    db
      .insertInto("secrets")
      .values(row)
      .onConflict((oc) => {
        const target =
          row.agent_id === null
            ? oc.column("key").where(sql<boolean>`agent_id is null`)
            : oc.columns(["key", "agent_id"]).where(sql<boolean>`agent_id is not null`);
        return replace ? target.doUpdateSet({ value: row.value, updated_at: row.updated_at }) : target.doNothing();
      })
      .returningAll()
      .executeTakeFirst();

  return {
    async effectiveSecrets(agentId) {
      const rows = await db
        .selectFrom("secrets")
        .select(["key", "value", "agent_id"])
        .where((eb) => eb.or([eb("agent_id", "is", null), eb("agent_id", "=", agentId)]))
        .execute();
      const result: Record<string, string> = {};
      for (const row of rows) if (row.agent_id === null) result[row.key] = row.value;
      for (const row of rows) if (row.agent_id !== null) result[row.key] = row.value;
      return result;
    },

    async upsert(input) {
      const row = newRow(input);
      const stored = await insertRow(row, true);
      if (stored === undefined) throw new GatewayError("INTERNAL", "secret upsert returned no row");
      return { secret: toSecret(stored), created: stored.id === row.id };
    },

    async insert(input) {
      const stored = await insertRow(newRow(input), false);
      return stored === undefined ? undefined : toSecret(stored);
    },

    async updateValue(id, value, now) {
      validateSecretValue(value);
      const row = await db
        .updateTable("secrets")
        .set({ value, updated_at: now })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : toSecret(row);
    },

    async findById(id) {
      const row = await db.selectFrom("secrets").selectAll().where("id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : toSecret(row);
    },

    async delete(id) {
      const result = await db.deleteFrom("secrets").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async list() {
      const rows = await db
        .selectFrom("secrets")
        .selectAll()
        .orderBy("key", "asc")
        .orderBy(sql`agent_id is not null`, "asc")
        .orderBy("agent_id", "asc")
        .execute();
      return rows.map(toSecret);
    },
  };
}
