// ABOUTME: What the agent layer asks the identity store at registration: the Welcome's effective secrets and
// ABOUTME: the `leader` role grant for agents registering with that capability (agent-stream.md §2).
import { systemClock, isoTimestamp, type Clock } from "../lib/clock.js";
import { ANONYMOUS_PRINCIPAL_ID } from "../store/principal-repository.js";
import { createRoleRepository } from "../store/role-repository.js";
import { createSecretRepository } from "../store/secret-repository.js";
import type { StoreExecutor } from "../store/transaction.js";

/** Structurally the agent layer's `AgentDirectory` port (src/agent/agent-ports.ts). */
export interface AgentDirectoryService {
  /** Global secrets overlaid by the rows stored for `agentId`. Store failures reject (the caller logs them). */
  effectiveSecrets(agentId: string): Promise<Record<string, string>>;
  /** Grants role `leader` (idempotent); a no-op for `anonymous`. Store failures reject. */
  grantLeader(principalId: string): Promise<void>;
}

/** Creates the directory over the store. Throws nothing at creation. */
export function createAgentDirectoryService(options: { db: StoreExecutor; clock?: Clock }): AgentDirectoryService {
  const clock = options.clock ?? systemClock;
  return {
    effectiveSecrets: (agentId) => createSecretRepository(options.db).effectiveSecrets(agentId),
    async grantLeader(principalId) {
      if (principalId === ANONYMOUS_PRINCIPAL_ID) return;
      await createRoleRepository(options.db).grant(principalId, "leader", isoTimestamp(clock.now()));
    },
  };
}
