// ABOUTME: Principal administration (services.md AdminService/ClientService identity RPCs, auth.md §2, §13, §14).
// ABOUTME: Every change and its audit row share one transaction; revocations/deletions are announced to listeners.
import { systemClock, isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";
import { randomIds, type IdSource } from "../lib/ids.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import { createAuditRepository, whoDetail, type AuditWho } from "../store/audit-repository.js";
import {
  ANONYMOUS_PRINCIPAL_ID,
  createPrincipalRepository,
  newAdminPrincipalId,
  type Principal as StoredPrincipal,
  type PrincipalType,
} from "../store/principal-repository.js";
import { createRoleRepository, isRoleName, type RoleName } from "../store/role-repository.js";
import { inTransaction, type StoreExecutor } from "../store/transaction.js";
import { resolveTokenTtlSeconds, type JwtService } from "./jwt.js";
import { fingerprintFromKeyInput, validateRegistrationDisplayName, validateRegistrationFingerprint } from "./principal-input.js";
import { internalFailure } from "./identity-support.js";
import { ADMIN_ROLES, hasAnyRole } from "./roles.js";
import { createRegistrationLimiter, type RegistrationLimiter } from "./registration-limiter.js";

/** A principal as the admin APIs show it. */
export interface PrincipalView {
  id: string;
  type: PrincipalType;
  displayName: string;
  status: string;
  /** Undefined for key-less principals. */
  pubkeyFingerprint: string | undefined;
  createdAt: string;
  roles: string[];
}

/** `GetMe`'s answer (services.md). */
export interface Me {
  principalId: string;
  principalType: string;
  displayName: string;
  status: string;
  roles: string[];
}

/** The authenticated caller of an identity operation. */
export interface IdentityCaller {
  id: string;
  roles: readonly string[];
}

/** A principal whose live sessions must end (auth.md §14). */
export interface PrincipalRemoval {
  principalId: string;
  reason: "revoked" | "deleted";
}

export interface CreatePrincipalInput {
  type: string;
  displayName: string;
  pubkey?: string | undefined;
  pubkeyFp?: string | undefined;
  roles: readonly string[];
}

export interface IdentityService {
  /** False in no-auth mode (no JWT secret): `createToken` then fails FAILED_PRECONDITION. */
  readonly canIssueTokens: boolean;
  /**
   * `AdminService.CreateToken`, checks in services.md order. Throws GatewayError INVALID_ARGUMENT
   * (`principal_id required`, `ttl_seconds exceeds maximum of 31536000`), FAILED_PRECONDITION (`token generation
   * not configured (no jwt_secret)`, `principal status is <status>, must be approved`), NOT_FOUND
   * `principal not found`, INTERNAL `failed to generate token`. Audits `create_token`.
   */
  createToken(actor: string, input: { principalId: string; ttlSeconds: number }, who?: AuditWho): Promise<{ token: string; expiresAt: Date; ttlSeconds: number }>;
  /** `AdminService.ListPrincipals`: exact filters, newest first, uncapped. Throws INTERNAL `failed to list principals`. */
  listPrincipals(filter: { type?: string | undefined; status?: string | undefined }): Promise<PrincipalView[]>;
  /**
   * `AdminService.CreatePrincipal` (services.md steps 1-5). Throws GatewayError INVALID_ARGUMENT (validation),
   * ALREADY_EXISTS `pubkey already registered to another principal`, INTERNAL `failed to create principal`.
   * Audits `create_principal`. The returned roles are the ones actually added.
   */
  createPrincipal(actor: string, input: CreatePrincipalInput, who?: AuditWho): Promise<PrincipalView>;
  /**
   * `AdminService.DeletePrincipal`: deletes row and roles, audits `delete_principal`, then announces the removal.
   * Throws GatewayError INVALID_ARGUMENT `id required`, FAILED_PRECONDITION `cannot delete the anonymous principal`,
   * NOT_FOUND `principal not found`, INTERNAL `failed to delete principal`.
   */
  deletePrincipal(actor: string, id: string, who?: AuditWho): Promise<void>;
  /**
   * Approve (web admin, auth.md §14): `pending`/`revoked` → `approved` with audit `approve_principal`; any other
   * status is left alone (`changed` false, nothing audited). Throws NOT_FOUND `principal not found`, INTERNAL
   * `failed to approve principal`.
   */
  approvePrincipal(actor: string, id: string, who?: AuditWho): Promise<{ principal: PrincipalView; changed: boolean }>;
  /**
   * Revoke (web admin, auth.md §14): any status but `revoked` → `revoked` with audit `revoke_principal`, then
   * announces the removal so live sessions end. Throws NOT_FOUND `principal not found`, FAILED_PRECONDITION
   * `cannot revoke the anonymous principal`, INTERNAL `failed to revoke principal`.
   */
  revokePrincipal(actor: string, id: string, who?: AuditWho): Promise<{ principal: PrincipalView; changed: boolean }>;
  /** `ClientService.GetMe`: the stored row with the caller's roles. Throws INTERNAL `failed to fetch principal`. */
  getMe(caller: IdentityCaller): Promise<Me>;
  /**
   * `RegisterAgent` / `RegisterClient` (auth.md §13): member gate, rate limit, display name, fingerprint, then one
   * transaction for principal, role `member` and audit. Throws GatewayError PERMISSION_DENIED, RESOURCE_EXHAUSTED,
   * INVALID_ARGUMENT, ALREADY_EXISTS `fingerprint already registered`, INTERNAL `failed to create principal`.
   */
  registerPrincipal(
    caller: IdentityCaller,
    type: "agent" | "client",
    input: { displayName: string; fingerprint: string },
  ): Promise<{ principalId: string; status: "approved" }>;
  /** Subscribes to revocations and deletions; returns the unsubscribe function. */
  onPrincipalRemoved(listener: (removal: PrincipalRemoval) => void): () => void;
}

export interface IdentityServiceOptions {
  db: StoreExecutor;
  /** Undefined in no-auth mode. */
  jwt: JwtService | undefined;
  clock?: Clock;
  ids?: IdSource;
  log?: Logger;
  registrationLimiter?: RegistrationLimiter;
}

const USABLE = new Set(["approved", "online", "offline"]);

function toView(principal: StoredPrincipal, roles: readonly string[]): PrincipalView {
  return {
    id: principal.id,
    type: principal.type,
    displayName: principal.displayName,
    status: principal.status,
    pubkeyFingerprint: principal.pubkeyFingerprint,
    createdAt: principal.createdAt,
    roles: [...roles],
  };
}

/** Creates the identity service over the store. Throws nothing at creation. */
export function createIdentityService(options: IdentityServiceOptions): IdentityService {
  const { db, jwt } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  const log = options.log ?? silentLogger;
  const limiter = options.registrationLimiter ?? createRegistrationLimiter({ clock });
  const listeners = new Set<(removal: PrincipalRemoval) => void>();
  const fail = internalFailure(log);

  const announce = (removal: PrincipalRemoval): void => {
    for (const listener of [...listeners]) {
      try {
        listener(removal);
      } catch (err) {
        log.error("principal removal listener failed", { principal_id: removal.principalId, cause: err });
      }
    }
  };

  const findOrNotFound = async (id: string, failure: string): Promise<StoredPrincipal> => {
    const principal = await fail(failure, () => createPrincipalRepository(db).findById(id));
    if (principal === undefined) throw new GatewayError("NOT_FOUND", "principal not found");
    return principal;
  };

  const changeStatus = async (
    actor: string,
    id: string,
    target: "approved" | "revoked",
    who: AuditWho | undefined,
  ): Promise<{ principal: PrincipalView; changed: boolean }> => {
    const failure = target === "approved" ? "failed to approve principal" : "failed to revoke principal";
    if (target === "revoked" && id === ANONYMOUS_PRINCIPAL_ID) {
      throw new GatewayError("FAILED_PRECONDITION", "cannot revoke the anonymous principal");
    }
    const current = await findOrNotFound(id, failure);
    const applies = target === "approved" ? current.status === "pending" || current.status === "revoked" : current.status !== "revoked";
    const roles = await fail(failure, () => createRoleRepository(db).rolesOf(id));
    if (!applies) return { principal: toView(current, roles), changed: false };
    const updated = await fail(failure, () =>
      inTransaction(db, async (trx) => {
        const row = await createPrincipalRepository(trx).setStatus(id, target);
        if (row === undefined) throw new GatewayError("NOT_FOUND", "principal not found");
        await createAuditRepository(trx).record({
          actor,
          action: target === "approved" ? "approve_principal" : "revoke_principal",
          targetType: "principal",
          targetId: id,
          detail: { ...whoDetail(who), previous_status: current.status },
          now: isoTimestamp(clock.now()),
        });
        return row;
      }),
    );
    if (target === "revoked") announce({ principalId: id, reason: "revoked" });
    return { principal: toView(updated, roles), changed: true };
  };

  return {
    canIssueTokens: jwt !== undefined,

    async createToken(actor, input, who) {
      if (input.principalId === "") throw new GatewayError("INVALID_ARGUMENT", "principal_id required");
      if (jwt === undefined) throw new GatewayError("FAILED_PRECONDITION", "token generation not configured (no jwt_secret)");
      const principal = await findOrNotFound(input.principalId, "failed to generate token");
      if (!USABLE.has(principal.status)) {
        throw new GatewayError("FAILED_PRECONDITION", `principal status is ${principal.status}, must be approved`);
      }
      const ttlSeconds = resolveTokenTtlSeconds(input.ttlSeconds);
      return fail("failed to generate token", async () => {
        const minted = await jwt.mint(principal.id, ttlSeconds);
        await createAuditRepository(db).record({
          actor,
          action: "create_token",
          targetType: "principal",
          targetId: principal.id,
          detail: { ...whoDetail(who), ttl_seconds: ttlSeconds, expires_at: isoTimestamp(minted.expiresAt) },
          now: isoTimestamp(clock.now()),
        });
        return { ...minted, ttlSeconds };
      });
    },

    async listPrincipals(filter) {
      return fail("failed to list principals", async () => {
        const principals = await createPrincipalRepository(db).list({ type: filter.type, status: filter.status });
        const roles = await createRoleRepository(db).rolesOfMany(principals.map((p) => p.id));
        return principals.map((p) => toView(p, roles.get(p.id) ?? []));
      });
    },

    async createPrincipal(actor, input, who) {
      if (input.type === "") throw new GatewayError("INVALID_ARGUMENT", "type required");
      if (input.displayName === "") throw new GatewayError("INVALID_ARGUMENT", "display_name required");
      if (input.type !== "client" && input.type !== "agent") {
        throw new GatewayError("INVALID_ARGUMENT", `invalid type: ${input.type} (use 'client' or 'agent')`);
      }
      const type = input.type;
      const fingerprint = fingerprintFromKeyInput(input.pubkey, input.pubkeyFp);
      if (type === "agent" && fingerprint === undefined) {
        throw new GatewayError("INVALID_ARGUMENT", "agent principals require pubkey or pubkey_fp");
      }
      const granted: RoleName[] = [];
      for (const role of new Set(input.roles)) {
        if (isRoleName(role)) granted.push(role);
        else log.warn("skipping unknown role in CreatePrincipal", { role });
      }
      const now = clock.now();
      const stamp = isoTimestamp(now);
      return fail("failed to create principal", () =>
        inTransaction(db, async (trx) => {
          const created = await createPrincipalRepository(trx).insert({
            id: newAdminPrincipalId(type, now),
            type,
            displayName: input.displayName,
            status: "approved",
            pubkeyFingerprint: type === "agent" ? fingerprint : undefined,
            now: stamp,
          });
          if (created === undefined) throw new GatewayError("ALREADY_EXISTS", "pubkey already registered to another principal");
          const roles = createRoleRepository(trx);
          for (const role of granted) await roles.grant(created.id, role, stamp);
          await createAuditRepository(trx).record({
            actor,
            action: "create_principal",
            targetType: "principal",
            targetId: created.id,
            detail: { ...whoDetail(who), type, display_name: input.displayName, roles: [...input.roles] },
            now: stamp,
          });
          return toView(created, granted);
        }),
      );
    },

    async deletePrincipal(actor, id, who) {
      if (id === "") throw new GatewayError("INVALID_ARGUMENT", "id required");
      if (id === ANONYMOUS_PRINCIPAL_ID) throw new GatewayError("FAILED_PRECONDITION", "cannot delete the anonymous principal");
      await fail("failed to delete principal", () =>
        inTransaction(db, async (trx) => {
          const existing = await createPrincipalRepository(trx).findById(id);
          if (existing === undefined || !(await createPrincipalRepository(trx).delete(id))) {
            throw new GatewayError("NOT_FOUND", "principal not found");
          }
          await createAuditRepository(trx).record({
            actor,
            action: "delete_principal",
            targetType: "principal",
            targetId: id,
            detail: { ...whoDetail(who), type: existing.type, display_name: existing.displayName },
            now: isoTimestamp(clock.now()),
          });
        }),
      );
      announce({ principalId: id, reason: "deleted" });
    },

    approvePrincipal: (actor, id, who) => changeStatus(actor, id, "approved", who),
    revokePrincipal: (actor, id, who) => changeStatus(actor, id, "revoked", who),

    async getMe(caller) {
      const principal = await fail("failed to fetch principal", () => createPrincipalRepository(db).findById(caller.id));
      if (principal === undefined) throw new GatewayError("INTERNAL", "failed to fetch principal");
      return {
        principalId: principal.id,
        principalType: principal.type,
        displayName: principal.displayName,
        status: principal.status,
        roles: [...caller.roles],
      };
    },

    async registerPrincipal(caller, type, input) {
      const plural = type === "agent" ? "agents" : "clients";
      if (!hasAnyRole(caller.roles, ["member", ...ADMIN_ROLES])) {
        throw new GatewayError("PERMISSION_DENIED", `member role required to register ${plural}`);
      }
      limiter.attempt(caller.id);
      const displayName = validateRegistrationDisplayName(input.displayName);
      const fingerprint = validateRegistrationFingerprint(input.fingerprint);
      const stamp = isoTimestamp(clock.now());
      const principalId = await fail("failed to create principal", () =>
        inTransaction(db, async (trx) => {
          const created = await createPrincipalRepository(trx).insert({
            id: ids.uuid(),
            type,
            displayName,
            status: "approved",
            pubkeyFingerprint: fingerprint,
            now: stamp,
          });
          if (created === undefined) throw new GatewayError("ALREADY_EXISTS", "fingerprint already registered");
          await createRoleRepository(trx).grant(created.id, "member", stamp);
          await createAuditRepository(trx).record({
            actor: caller.id,
            action: "create_principal",
            targetType: "principal",
            targetId: created.id,
            detail: { type, display_name: displayName, roles: ["member"], self_registered: true },
            now: stamp,
          });
          return created.id;
        }),
      );
      return { principalId, status: "approved" };
    },

    onPrincipalRemoved(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
