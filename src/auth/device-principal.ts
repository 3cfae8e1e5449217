// ABOUTME: The principal of a linked device (auth.md §12): the one already holding the device key's fingerprint,
// ABOUTME: or a new approved `client` named after the device with role `member`. Shared by link approval and QR pairing.
import type { IdSource } from "../lib/ids.js";
import { createAuditRepository } from "../store/audit-repository.js";
import { createPrincipalRepository } from "../store/principal-repository.js";
import { createRoleRepository } from "../store/role-repository.js";
import type { StoreExecutor } from "../store/transaction.js";

export interface DevicePrincipalInput {
  /** 64 hex chars of the device key (lowercased before matching and storing). */
  fingerprint: string;
  deviceName: string;
  /** Actor string of the `create_principal` audit row (the web admin user who authorised the device). */
  actor: string;
  /** Keys leading that row's detail, e.g. `{ username, link_code_id }`. */
  detail: Record<string, unknown>;
  /** Normalised ISO timestamp. */
  now: string;
  ids: IdSource;
}

/**
 * Reuses the principal holding `fingerprint`, or creates `{UUIDv4, client, device_name, approved}` with role
 * `member` and audits `create_principal`. Run it inside the caller's transaction (`trx`). Throws the driver's
 * error, or an Error when the fingerprint was taken concurrently, so the transaction rolls back.
 */
export async function ensureDevicePrincipal(
  trx: StoreExecutor,
  input: DevicePrincipalInput,
): Promise<{ principalId: string; isNewPrincipal: boolean }> {
  const principals = createPrincipalRepository(trx);
  const fingerprint = input.fingerprint.toLowerCase();
  const existing = await principals.findByFingerprint(fingerprint);
  if (existing !== undefined) return { principalId: existing.id, isNewPrincipal: false };
  const created = await principals.insert({
    id: input.ids.uuid(),
    type: "client",
    displayName: input.deviceName,
    status: "approved",
    pubkeyFingerprint: fingerprint,
    now: input.now,
  });
  if (created === undefined) throw new Error("fingerprint taken while creating the device principal");
  await createRoleRepository(trx).grant(created.id, "member", input.now);
  await createAuditRepository(trx).record({
    actor: input.actor,
    action: "create_principal",
    targetType: "principal",
    targetId: created.id,
    detail: { ...input.detail, type: "client", display_name: input.deviceName, roles: ["member"] },
    now: input.now,
  });
  return { principalId: created.id, isNewPrincipal: true };
}
