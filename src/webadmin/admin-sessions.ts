// ABOUTME: Web admin sessions (web-admin.md §3.2): 7-day fixed lifetime, lookup by cookie, hourly purge.
// ABOUTME: `resolveCookieHeader` is what other edges (the WebSocket upgrade) use to authenticate a browser.
import { isoTimestamp, type Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import { createAdminSessionRepository, type AdminSession } from "../store/admin-session-repository.js";
import type { StoreExecutor } from "../store/transaction.js";
import { parseCookieHeader, SESSION_COOKIE } from "./cookies.js";

export type { AdminSession } from "../store/admin-session-repository.js";

/** Session lifetime: 7 days, not sliding. */
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** How often expired rows are deleted. */
export const SESSION_PURGE_INTERVAL_MS = 60 * 60 * 1000;

const SESSION_ID_RE = /^[0-9a-f]{64}$/;

export interface AdminSessions {
  /** Creates a session for the user; returns the cookie value and the expiry. Store failures throw. */
  create(userId: string): Promise<{ id: string; expiresAt: Date }>;
  /** The unexpired session with this id and its user; undefined for a malformed, unknown or expired id. */
  resolve(id: string | undefined): Promise<AdminSession | undefined>;
  /** The session named by the `coven_admin_session` cookie of a raw `Cookie` header; store failures throw. */
  resolveCookieHeader(header: string | undefined): Promise<AdminSession | undefined>;
  delete(id: string): Promise<void>;
  /** Calls `listener` after a session was deleted (logout), so other edges end what it opened. Returns the removal. */
  onDeleted(listener: (sessionId: string) => void): () => void;
  /** Deletes expired rows now. */
  purgeExpired(): Promise<number>;
  /** Starts the hourly purge (unref'd); `stop` ends it. */
  start(): void;
  stop(): void;
}

/** Builds the session service over the store. */
export function createAdminSessions(deps: { db: StoreExecutor; clock: Clock; log: Logger; ttlMs?: number }): AdminSessions {
  const repo = createAdminSessionRepository(deps.db);
  const ttl = deps.ttlMs ?? SESSION_TTL_MS;
  let timer: NodeJS.Timeout | undefined;
  const deletedListeners = new Set<(sessionId: string) => void>();
  const now = () => isoTimestamp(deps.clock.now());
  const sessions: AdminSessions = {
    async create(userId) {
      const created = deps.clock.now();
      const expiresAt = new Date(created.getTime() + ttl);
      const id = await repo.create({ userId, now: isoTimestamp(created), expiresAt: isoTimestamp(expiresAt) });
      return { id, expiresAt };
    },
    async resolve(id) {
      if (id === undefined || !SESSION_ID_RE.test(id)) return undefined;
      return repo.findValid(id, now());
    },
    async resolveCookieHeader(header) {
      return sessions.resolve(parseCookieHeader(header).get(SESSION_COOKIE));
    },
    async delete(id) {
      await repo.delete(id);
      for (const listener of deletedListeners) {
        try {
          listener(id);
        } catch (err) {
          deps.log.error("admin session listener failed", { cause: err });
        }
      }
    },
    onDeleted(listener) {
      deletedListeners.add(listener);
      return () => {
        deletedListeners.delete(listener);
      };
    },
    purgeExpired() {
      return repo.purgeExpired(now());
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        repo.purgeExpired(now()).catch((cause: unknown) => deps.log.error("admin session purge failed", { cause }));
      }, SESSION_PURGE_INTERVAL_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return sessions;
}
