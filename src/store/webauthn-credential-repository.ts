// ABOUTME: Passkeys of web admin users (store.md §3 webauthn_credentials): insert, find by raw credential id,
// ABOUTME: list a user's, and save the sign counter after a login.
import type { Selectable } from "kysely";
import type { WebauthnCredentialRow } from "./schema.js";
import type { StoreExecutor } from "./transaction.js";

/** A stored passkey. */
export interface WebauthnCredential {
  id: string;
  userId: string;
  /** The raw credential id bytes (the browser's base64url id, decoded). */
  credentialId: Buffer;
  publicKey: Buffer;
  attestationType: string | undefined;
  transports: string[];
  signCount: number;
  createdAt: string;
}

export interface NewWebauthnCredential {
  id: string;
  userId: string;
  credentialId: Buffer;
  publicKey: Buffer;
  attestationType: string;
  transports: string[];
  signCount: number;
  now: string;
}

export interface WebauthnCredentialRepository {
  /** Inserts the credential; undefined when the credential id is already stored. */
  insert(input: NewWebauthnCredential): Promise<WebauthnCredential | undefined>;
  findByCredentialId(credentialId: Buffer): Promise<WebauthnCredential | undefined>;
  /** A user's passkeys, oldest first. */
  listByUser(userId: string): Promise<WebauthnCredential[]>;
  updateSignCount(id: string, signCount: number): Promise<void>;
}

function parseTransports(text: string | null): string[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((t): t is string => typeof t === "string") : [];
  } catch {
    return [];
  }
}

function toCredential(row: Selectable<WebauthnCredentialRow>): WebauthnCredential {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: Buffer.from(row.credential_id),
    publicKey: Buffer.from(row.public_key),
    attestationType: row.attestation_type ?? undefined,
    transports: parseTransports(row.transports),
    signCount: row.sign_count,
    createdAt: row.created_at,
  };
}

export function createWebauthnCredentialRepository(db: StoreExecutor): WebauthnCredentialRepository {
  return {
    async insert(input) {
      const result = await db
        .insertInto("webauthn_credentials")
        .values({
          id: input.id,
          user_id: input.userId,
          credential_id: input.credentialId,
          public_key: input.publicKey,
          attestation_type: input.attestationType,
          transports: JSON.stringify(input.transports),
          sign_count: input.signCount,
          created_at: input.now,
        })
        .onConflict((oc) => oc.column("credential_id").doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return undefined;
      return {
        id: input.id,
        userId: input.userId,
        credentialId: input.credentialId,
        publicKey: input.publicKey,
        attestationType: input.attestationType,
        transports: input.transports,
        signCount: input.signCount,
        createdAt: input.now,
      };
    },
    async findByCredentialId(credentialId) {
      const row = await db.selectFrom("webauthn_credentials").selectAll().where("credential_id", "=", credentialId).executeTakeFirst();
      return row === undefined ? undefined : toCredential(row);
    },
    async listByUser(userId) {
      const rows = await db.selectFrom("webauthn_credentials").selectAll().where("user_id", "=", userId).orderBy("created_at").execute();
      return rows.map(toCredential);
    },
    async updateSignCount(id, signCount) {
      await db.updateTable("webauthn_credentials").set({ sign_count: signCount }).where("id", "=", id).execute();
    },
  };
}
