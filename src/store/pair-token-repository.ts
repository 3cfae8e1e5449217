// ABOUTME: QR pairing tokens (migration 0004 pair_tokens): insert by hash, look up, claim once, record the principal.
// ABOUTME: The claim is one guarded UPDATE … WHERE used_at IS NULL, so exactly one of concurrent claims wins.
import type { Selectable } from "kysely";
import type { PairTokenRow } from "./schema.js";
import type { StoreExecutor } from "./transaction.js";

/** A stored pairing token. The plaintext is never stored; `tokenHash` is its lowercase-hex SHA-256. */
export interface PairToken {
  id: string;
  tokenHash: string;
  /** admin_users.id of the admin who minted it. */
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  /** Set by the winning claim; undefined while unused. */
  usedAt: string | undefined;
  /** The principal enrolled with it; undefined before, or when the principal was deleted. */
  principalId: string | undefined;
}

export interface NewPairToken {
  id: string;
  tokenHash: string;
  createdBy: string;
  /** Normalised ISO timestamps. */
  createdAt: string;
  expiresAt: string;
}

export interface PairTokenRepository {
  /** Inserts an unused token. Driver errors (an unknown admin user, a hash clash) propagate. */
  insert(token: NewPairToken): Promise<PairToken>;
  findByHash(tokenHash: string): Promise<PairToken | undefined>;
  /**
   * Marks the token used at `now` if it is still unused: one guarded update. True for the one caller that won,
   * false for everyone else (already used, or deleted meanwhile).
   */
  claim(id: string, now: string): Promise<boolean>;
  /** Records the principal enrolled with a claimed token. */
  setPrincipal(id: string, principalId: string): Promise<void>;
  /** Deletes every token whose expires_at ≤ now, used or not; returns how many. */
  deleteExpired(now: string): Promise<number>;
}

function toPairToken(row: Selectable<PairTokenRow>): PairToken {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at ?? undefined,
    principalId: row.principal_id ?? undefined,
  };
}

/** Creates the repository over `db` (the database or a transaction). Methods throw only driver errors. */
export function createPairTokenRepository(db: StoreExecutor): PairTokenRepository {
  return {
    async insert(token) {
      const row = await db
        .insertInto("pair_tokens")
        .values({
          id: token.id,
          token_hash: token.tokenHash,
          created_by: token.createdBy,
          created_at: token.createdAt,
          expires_at: token.expiresAt,
          used_at: null,
          principal_id: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toPairToken(row);
    },

    async findByHash(tokenHash) {
      const row = await db.selectFrom("pair_tokens").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
      return row === undefined ? undefined : toPairToken(row);
    },

    async claim(id, now) {
      const result = await db
        .updateTable("pair_tokens")
        .set({ used_at: now })
        .where("id", "=", id)
        .where("used_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async setPrincipal(id, principalId) {
      await db.updateTable("pair_tokens").set({ principal_id: principalId }).where("id", "=", id).execute();
    },

    async deleteExpired(now) {
      const result = await db.deleteFrom("pair_tokens").where("expires_at", "<=", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
