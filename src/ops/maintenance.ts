// ABOUTME: Maintenance mode (ops.md §5): the switch, persisted in `settings` with its audit row, and the send check.
// ABOUTME: While on, every new send is refused `maintenance: <message>` with a 60 s retry hint; reads keep working.
import { isoTimestamp, type Clock } from "../lib/clock.js";
import { GatewayError } from "../lib/gateway-error.js";
import type { Logger } from "../lib/logger.js";
import { createWarnLimiter } from "../lib/warn-limiter.js";
import { MAINTENANCE_RETRY_AFTER_MS, Refusal } from "../lib/refusal.js";
import { createAuditRepository } from "../store/audit-repository.js";
import { createSettingsRepository } from "../store/settings-repository.js";
import { inTransaction, type StoreExecutor } from "../store/transaction.js";
import type { GatewayMetrics } from "./gateway-metrics.js";

/** The message of a maintenance switched on without one. */
export const DEFAULT_MAINTENANCE_MESSAGE = "the gateway is in maintenance";
export const MAX_MAINTENANCE_MESSAGE_CHARS = 200;
const SETTINGS_KEY = "maintenance";

export interface MaintenanceState {
  enabled: boolean;
  message: string;
  /** RFC 3339, or null while off. */
  since: string | null;
}

export type MaintenanceListener = (state: MaintenanceState) => void;

export interface Maintenance {
  /** Reads the persisted state (startup), so maintenance survives a restart. */
  load(): Promise<void>;
  /** The current state (a copy). */
  state(): MaintenanceState;
  readonly isOn: boolean;
  /**
   * Switches maintenance on or off, persisting the state and the `set_maintenance` audit row in one transaction.
   * Throws INVALID_ARGUMENT `message exceeds 200 characters`.
   */
  set(input: { enabled: boolean; message?: string | undefined; actor: string }): Promise<MaintenanceState>;
  /** Throws the maintenance Refusal (UNAVAILABLE `maintenance: <message>`, retry 60 s) while on. */
  check(): void;
  /** Called after every change (WS `maintenance` events). Returns the unsubscribe function. */
  onChange(listener: MaintenanceListener): () => void;
}

const OFF: MaintenanceState = { enabled: false, message: "", since: null };

function parseState(value: unknown): MaintenanceState {
  if (value === null || typeof value !== "object") return { ...OFF };
  const v = value as Record<string, unknown>;
  if (v["enabled"] !== true) return { ...OFF };
  return {
    enabled: true,
    message: typeof v["message"] === "string" ? v["message"] : DEFAULT_MAINTENANCE_MESSAGE,
    since: typeof v["since"] === "string" ? v["since"] : null,
  };
}

/** The switch, off until `load` reads the persisted state. */
export function createMaintenance(deps: { db: StoreExecutor; clock: Clock; log: Logger; metrics: GatewayMetrics }): Maintenance {
  const { db, clock, log, metrics } = deps;
  let current: MaintenanceState = { ...OFF };
  const listeners = new Set<MaintenanceListener>();
  // ops.md §6: every refusal is a warn line, at most once a minute (the key is the switch itself, not the caller).
  const warns = createWarnLimiter(() => clock.now().getTime());

  return {
    async load() {
      current = parseState(await createSettingsRepository(db).get(SETTINGS_KEY));
      metrics.maintenance(current.enabled);
      if (current.enabled) log.warn("maintenance enabled", { message: current.message, since: current.since });
    },
    state: () => ({ ...current }),
    get isOn() {
      return current.enabled;
    },
    async set({ enabled, message, actor }) {
      if (message !== undefined && [...message].length > MAX_MAINTENANCE_MESSAGE_CHARS) {
        throw new GatewayError("INVALID_ARGUMENT", "message exceeds 200 characters");
      }
      const now = isoTimestamp(clock.now());
      const next: MaintenanceState = enabled
        ? {
            enabled: true,
            message: message === undefined || message === "" ? DEFAULT_MAINTENANCE_MESSAGE : message,
            since: current.enabled && current.since !== null ? current.since : now,
          }
        : { ...OFF };
      await inTransaction(db, async (trx) => {
        await createSettingsRepository(trx).put(SETTINGS_KEY, next, now);
        await createAuditRepository(trx).record({
          actor,
          action: "set_maintenance",
          targetType: "gateway",
          targetId: "maintenance",
          detail: { enabled: next.enabled, message: next.message },
          now,
        });
      });
      current = next;
      metrics.maintenance(next.enabled);
      log.warn(next.enabled ? "maintenance enabled" : "maintenance disabled", { actor, message: next.message });
      for (const listener of listeners) {
        try {
          listener({ ...next });
        } catch (err) {
          log.error("maintenance listener failed", { cause: err });
        }
      }
      return { ...next };
    },
    check() {
      if (!current.enabled) return;
      warns.warn(log, "maintenance", "send refused: maintenance", { message: current.message, since: current.since });
      throw new Refusal("maintenance", `maintenance: ${current.message}`, MAINTENANCE_RETRY_AFTER_MS);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
