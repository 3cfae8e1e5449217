// ABOUTME: Device linking (auth.md §12): a device asks for a short code, an admin approves it, the device picks up
// ABOUTME: a 30-day token for a `client` principal holding its key; the token is scrubbed 5 minutes after approval.
import { randomBytes as cryptoRandomBytes } from "node:crypto";
import { systemClock, isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";
import { randomIds, type IdSource } from "../lib/ids.js";
import { silentLogger, type Logger } from "../lib/logger.js";
import { createAuditRepository } from "../store/audit-repository.js";
import {
  createLinkCodeRepository,
  LINK_CODE_TTL_MS,
  LINK_TOKEN_PICKUP_WINDOW_MS,
  type LinkCode,
} from "../store/link-code-repository.js";
import { inTransaction, type StoreExecutor } from "../store/transaction.js";
import { ensureDevicePrincipal } from "./device-principal.js";
import { DEFAULT_TOKEN_TTL_SECONDS, type JwtService } from "./jwt.js";

/** 32 symbols (no I, O, 0, 1), so one random byte mod 32 is unbiased. */
export const LINK_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const LINK_CODE_LENGTH = 6;
/** Draws before giving up on finding an unused code. */
export const MAX_LINK_CODE_ATTEMPTS = 10;

/** The exact texts of auth.md §12 / web-admin.md §5.14 (the edges send them verbatim). */
export const LINK_TEXT = Object.freeze({
  fieldsRequired: "fingerprint and device_name required",
  invalidFingerprint: "invalid fingerprint format (expected 64 hex chars)",
  generateFailed: "Failed to generate code",
  createFailed: "Failed to create link code",
  codeNotFound: "Code not found",
  lookupFailed: "Internal error",
  alreadyProcessed: "Code already processed",
  notConfigured: "Server not configured for link approval",
  approveFailed: "Failed to approve",
});

const alreadyProcessed = () =>
  new GatewayError("FAILED_PRECONDITION", LINK_TEXT.alreadyProcessed, { reason: "link_already_processed" });

/** What a status poll reports. `token` (with `principalId`) only within the pickup window after approval. */
export type LinkStatus =
  | { status: "pending" }
  | { status: "expired" }
  | { status: "approved"; principalId?: string; token?: string };

/** The outcome of an approval. */
export interface LinkApprovalResult {
  /** The code row, now approved. */
  link: LinkCode;
  principalId: string;
  /** True when a new principal was created (false: the principal already holding the fingerprint was reused). */
  isNewPrincipal: boolean;
}

export interface LinkService {
  /**
   * `POST /api/link/request`: stores a pending code for the device key, valid 10 minutes. Throws GatewayError
   * INVALID_ARGUMENT (`fingerprint and device_name required`, `invalid fingerprint format (expected 64 hex chars)`),
   * INTERNAL `Failed to generate code` (randomness failed or no unused code found) or `Failed to create link code`.
   */
  request(input: { fingerprint: string; deviceName: string }): Promise<{ code: string; expiresAt: string }>;
  /**
   * `GET /api/link/status/{code}` (exact match). Throws GatewayError NOT_FOUND `Code not found`, INTERNAL
   * `Internal error`. A token past its pickup window is scrubbed from the row and not reported.
   */
  status(code: string): Promise<LinkStatus>;
  /**
   * Approves a pending, unexpired code by row id or code, as the web admin user of `actor` (`webadmin:<id>`):
   * reuses the principal holding the fingerprint or creates `{uuid, client, device_name, approved}` with role
   * `member`, mints a 30-day token, stores it on the row; audits `create_principal` (if created), `create_token`,
   * `approve_link`, all in one transaction; `options.username` (the web admin user's name, web-admin.md §7) leads
   * each row's detail. Throws GatewayError NOT_FOUND `Code not found`, FAILED_PRECONDITION
   * `Code already processed` / `Server not configured for link approval` (no JWT secret; nothing is created),
   * INVALID_ARGUMENT for an actor that is not a web admin user, INTERNAL `Failed to approve`.
   */
  approve(actor: string, codeOrId: string, options?: { username?: string }): Promise<LinkApprovalResult>;
  /** Scrubs every token past its pickup window; returns how many. Throws INTERNAL `Internal error`. */
  scrubExpiredTokens(): Promise<number>;
}

export interface LinkServiceOptions {
  db: StoreExecutor;
  /** Undefined in no-auth mode: approval then fails before creating anything. */
  jwt: JwtService | undefined;
  clock?: Clock;
  ids?: IdSource;
  log?: Logger;
  /** Randomness for codes (tests inject collisions); defaults to node:crypto. */
  randomBytes?: (size: number) => Uint8Array;
}

const FINGERPRINT_RE = /^[0-9a-fA-F]{64}$/;
const WEB_ADMIN_ACTOR_PREFIX = "webadmin:";

/** Draws one code: each byte mod 32 picks a symbol. */
export function linkCodeFromBytes(bytes: Uint8Array): string {
  let code = "";
  for (let i = 0; i < LINK_CODE_LENGTH; i += 1) code += LINK_CODE_ALPHABET[(bytes[i] ?? 0) % LINK_CODE_ALPHABET.length];
  return code;
}

/** Creates the link service over the store. Throws nothing at creation. */
export function createLinkService(options: LinkServiceOptions): LinkService {
  const { db, jwt } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  const log = options.log ?? silentLogger;
  const draw = options.randomBytes ?? ((size: number) => cryptoRandomBytes(size));
  const codes = () => createLinkCodeRepository(db);

  const internal = (message: string, cause: unknown): GatewayError => {
    if (cause instanceof GatewayError) return cause;
    log.error(message, { cause });
    return new GatewayError("INTERNAL", message, { cause, reason: "link_failed" });
  };

  const findLink = async (codeOrId: string): Promise<LinkCode | undefined> =>
    (await codes().findById(codeOrId)) ?? (await codes().findByCode(codeOrId));

  return {
    async request(input) {
      if (input.fingerprint === "" || input.deviceName === "") throw new GatewayError("INVALID_ARGUMENT", LINK_TEXT.fieldsRequired);
      if (!FINGERPRINT_RE.test(input.fingerprint)) throw new GatewayError("INVALID_ARGUMENT", LINK_TEXT.invalidFingerprint);
      const now = isoTimestamp(clock.now());
      for (let attempt = 0; attempt < MAX_LINK_CODE_ATTEMPTS; attempt += 1) {
        let code: string;
        try {
          code = linkCodeFromBytes(draw(LINK_CODE_LENGTH));
        } catch (err) {
          throw internal(LINK_TEXT.generateFailed, err);
        }
        let created: LinkCode | undefined;
        try {
          created = await codes().insert({
            id: ids.uuid(),
            code,
            fingerprint: input.fingerprint.toLowerCase(),
            deviceName: input.deviceName,
            now,
            ttlMs: LINK_CODE_TTL_MS,
          });
        } catch (err) {
          throw internal(LINK_TEXT.createFailed, err);
        }
        if (created !== undefined) return { code: created.code, expiresAt: created.expiresAt };
      }
      throw internal(LINK_TEXT.generateFailed, new Error(`no unused link code after ${MAX_LINK_CODE_ATTEMPTS} draws`));
    },

    async status(code) {
      const nowMs = clock.now().getTime();
      let link: LinkCode | undefined;
      try {
        link = await codes().findByCode(code);
      } catch (err) {
        throw internal(LINK_TEXT.lookupFailed, err);
      }
      if (link === undefined) throw new GatewayError("NOT_FOUND", LINK_TEXT.codeNotFound);
      if (link.status === "pending") return nowMs >= Date.parse(link.expiresAt) ? { status: "expired" } : { status: "pending" };
      if (link.status !== "approved") return { status: "expired" };
      const approvedAtMs = link.approvedAt === undefined ? Number.NaN : Date.parse(link.approvedAt);
      const isPickupOpen = nowMs - approvedAtMs < LINK_TOKEN_PICKUP_WINDOW_MS;
      if (isPickupOpen && link.token !== undefined && link.principalId !== undefined) {
        return { status: "approved", principalId: link.principalId, token: link.token };
      }
      if (!isPickupOpen && link.token !== undefined) {
        try {
          await codes().scrubExpiredTokens(isoTimestamp(new Date(nowMs)), LINK_TOKEN_PICKUP_WINDOW_MS);
        } catch (err) {
          throw internal(LINK_TEXT.lookupFailed, err);
        }
      }
      return { status: "approved" };
    },

    async approve(actor, codeOrId, options = {}) {
      if (!actor.startsWith(WEB_ADMIN_ACTOR_PREFIX) || actor.length === WEB_ADMIN_ACTOR_PREFIX.length) {
        throw new GatewayError("INVALID_ARGUMENT", "link approval needs a web admin actor (webadmin:<id>)");
      }
      const approvedBy = actor.slice(WEB_ADMIN_ACTOR_PREFIX.length);
      const now = clock.now();
      const stamp = isoTimestamp(now);
      let link: LinkCode | undefined;
      try {
        link = await findLink(codeOrId);
      } catch (err) {
        throw internal(LINK_TEXT.approveFailed, err);
      }
      if (link === undefined) throw new GatewayError("NOT_FOUND", LINK_TEXT.codeNotFound);
      if (link.status !== "pending" || now.getTime() >= Date.parse(link.expiresAt)) {
        throw alreadyProcessed();
      }
      if (jwt === undefined) throw new GatewayError("FAILED_PRECONDITION", LINK_TEXT.notConfigured);
      const pending = link;
      const who = options.username === undefined ? {} : { username: options.username };
      try {
        return await inTransaction(db, async (trx) => {
          const audit = createAuditRepository(trx);
          const { principalId, isNewPrincipal } = await ensureDevicePrincipal(trx, {
            fingerprint: pending.fingerprint,
            deviceName: pending.deviceName,
            actor,
            detail: { ...who, link_code_id: pending.id },
            now: stamp,
            ids,
          });
          const minted = await jwt.mint(principalId, DEFAULT_TOKEN_TTL_SECONDS);
          await audit.record({
            actor,
            action: "create_token",
            targetType: "principal",
            targetId: principalId,
            detail: { ...who, ttl_seconds: DEFAULT_TOKEN_TTL_SECONDS, expires_at: isoTimestamp(minted.expiresAt) },
            now: stamp,
          });
          const approved = await createLinkCodeRepository(trx).approve(pending.code, {
            approvedBy,
            principalId,
            token: minted.token,
            now: stamp,
          });
          if (approved === undefined) throw alreadyProcessed();
          await audit.record({
            actor,
            action: "approve_link",
            targetType: "link_code",
            targetId: pending.id,
            detail: { ...who, code: pending.code, device_name: pending.deviceName, principal_id: principalId },
            now: stamp,
          });
          return { link: approved, principalId, isNewPrincipal };
        });
      } catch (err) {
        throw internal(LINK_TEXT.approveFailed, err);
      }
    },

    async scrubExpiredTokens() {
      try {
        return await codes().scrubExpiredTokens(isoTimestamp(clock.now()), LINK_TOKEN_PICKUP_WINDOW_MS);
      } catch (err) {
        throw internal(LINK_TEXT.lookupFailed, err);
      }
    },
  };
}
