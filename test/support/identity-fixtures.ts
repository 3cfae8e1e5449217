// ABOUTME: Identity fixtures for gateway tests: an auth-on test gateway, seeded principals, minted tokens and
// ABOUTME: agent SSH keys signed client-side by the fake agent's signer (independent of the gateway's verifier).
import { createHash, randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { parseOpenSshPrivateKey, sshAuthMetadata, type SshKey } from "../../cmd/fake-agent/ssh-signer.js";
import { createJwtService } from "../../src/auth/jwt.js";
import type { AgentAutoRegistration, GatewayConfig } from "../../src/config/types.js";
import { isoTimestamp } from "../../src/lib/clock.js";
import { createAuditRepository, type AuditEntry } from "../../src/store/audit-repository.js";
import { createPrincipalRepository, type PrincipalStatus, type PrincipalType } from "../../src/store/principal-repository.js";
import { createRoleRepository, type RoleName } from "../../src/store/role-repository.js";
import type { StoreExecutor } from "../../src/store/transaction.js";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "./gateway-harness.js";
import { testKeyPair } from "./key-pairs.js";

/** A 44-character secret, as `bootstrap` writes them. */
export const TEST_JWT_SECRET = "dGVzdC1zZWNyZXQtdGhhdC1pcy0zMi1ieXRlcy1sb25nIQ==";

export interface AuthGatewayOptions extends TestGatewayOptions {
  autoRegistration?: AgentAutoRegistration;
  lockout?: Partial<GatewayConfig["auth"]["lockout"]>;
}

/** Builds the auth slice of a config with a JWT secret (auth on). */
export function withAuth(config: GatewayConfig, options: AuthGatewayOptions = {}): GatewayConfig {
  return {
    ...config,
    auth: {
      ...config.auth,
      jwtSecret: TEST_JWT_SECRET,
      agentAutoRegistration: options.autoRegistration ?? "disabled",
      lockout: { ...config.auth.lockout, ...options.lockout },
    },
  };
}

/** Starts a test gateway with auth on. */
export function startAuthGateway(options: AuthGatewayOptions = {}): Promise<TestGateway> {
  const mutate = options.mutate;
  return startTestGateway({ ...options, mutate: (config) => withAuth(mutate ? mutate(config) : config, options) });
}

export interface SeedPrincipal {
  id?: string;
  type?: PrincipalType;
  status?: PrincipalStatus;
  roles?: RoleName[];
  fingerprint?: string;
  displayName?: string;
}

/** Inserts a principal (default: approved client with no roles) and its roles; returns its id. */
export async function seedPrincipal(db: StoreExecutor, seed: SeedPrincipal = {}): Promise<string> {
  const now = isoTimestamp(new Date());
  const id = seed.id ?? randomUUID();
  const created = await createPrincipalRepository(db).insert({
    id,
    type: seed.type ?? "client",
    displayName: seed.displayName ?? `principal-${id.slice(0, 8)}`,
    status: seed.status ?? "approved",
    pubkeyFingerprint: seed.fingerprint,
    now,
  });
  if (created === undefined) throw new Error("seedPrincipal: fingerprint taken");
  for (const role of seed.roles ?? []) await createRoleRepository(db).grant(id, role, now);
  return id;
}

/** A token for `principalId` signed with TEST_JWT_SECRET. */
export async function tokenFor(principalId: string, ttlSeconds?: number): Promise<string> {
  return (await createJwtService({ secret: TEST_JWT_SECRET }).mint(principalId, ttlSeconds)).token;
}

/** A fresh SSH key for an agent: ed25519, or RSA (signing rsa-sha2-256). */
export function newAgentKey(kind: "ed25519" | "rsa" = "ed25519"): SshKey {
  const { privateKey } = testKeyPair(kind === "ed25519" ? "ed25519" : "rsa-2048");
  return parseOpenSshPrivateKey(privateKey.export({ format: "pem", type: "pkcs8" }).toString());
}

/** Lowercase hex SHA-256 of the key blob: the principal fingerprint. */
export function fingerprintOf(key: SshKey): string {
  return createHash("sha256").update(key.publicBlob).digest("hex");
}

/** Fresh `x-ssh-*` metadata for one call (override pieces to forge failures). */
export function sshMetadata(key: SshKey, options: { nowMs?: number; nonce?: string; override?: Record<string, string> } = {}): grpc.Metadata {
  const values = { ...sshAuthMetadata(key, options), ...options.override };
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(values)) metadata.set(k, v);
  return metadata;
}

/** Audit rows for a target, newest first. */
export function auditOf(db: StoreExecutor, targetId: string): Promise<AuditEntry[]> {
  return createAuditRepository(db).list({ targetId, limit: 100 });
}

/** Polls `fn` until it returns a defined value (presence writes and stream ends are asynchronous). */
export async function eventually<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("eventually: timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
