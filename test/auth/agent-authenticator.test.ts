// ABOUTME: Tests SSH principal authentication with the auth.md §5.2 vector on an injected clock and a real store:
// ABOUTME: known keys, the three auto-registration modes, status gate, and the INTERNAL texts of store failures.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { createSshPrincipalAuthenticator, type AutoRegistrationMode } from "../../src/auth/agent-authenticator.js";
import { createPrincipalResolver } from "../../src/auth/principal-resolver.js";
import { createJwtService } from "../../src/auth/jwt.js";
import { createSshVerifier } from "../../src/auth/ssh-signature.js";
import { GatewayError } from "../../src/lib/gateway-error.js";
import { createPrincipalRepository } from "../../src/store/principal-repository.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import { createManualClock, openTempDatabase, type TempDatabase } from "../store/temp-database.js";
import { SPEC_ED25519 } from "./ssh-vectors.js";

const METADATA = {
  "x-ssh-pubkey": SPEC_ED25519.authorizedKey,
  "x-ssh-signature": SPEC_ED25519.wireSignatureBase64,
  "x-ssh-timestamp": SPEC_ED25519.timestamp,
  "x-ssh-nonce": SPEC_ED25519.nonce,
};
const NOW = "2023-11-14T22:13:30.000Z"; // 10 s after the vector's timestamp

let temp: TempDatabase;
beforeEach(async () => {
  temp = await openTempDatabase();
});
afterEach(async () => {
  await temp.cleanup();
});

function authenticator(mode: AutoRegistrationMode) {
  const clock = createManualClock(NOW);
  const principals = createPrincipalRepository(temp.store.db);
  const roles = createRoleRepository(temp.store.db);
  const resolver = createPrincipalResolver({
    jwt: createJwtService({ secret: "0123456789abcdef0123456789abcdef", clock }),
    lookup: { findPrincipal: (id) => principals.findById(id), rolesOf: (id) => roles.rolesOf(id) },
  });
  let n = 0;
  return createSshPrincipalAuthenticator({
    verifier: createSshVerifier({ clock }),
    resolver,
    db: temp.store.db,
    autoRegistration: mode,
    clock,
    ids: { uuid: () => `00000000-0000-4000-8000-00000000000${(n += 1)}` },
  });
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return { code: (err as GatewayError).code, message: (err as GatewayError).message };
  }
  throw new Error("expected a failure");
}

async function seed(status: "approved" | "pending" | "revoked", roles: Array<"member" | "admin"> = []) {
  const principals = createPrincipalRepository(temp.store.db);
  await principals.insert({ id: "known", type: "agent", displayName: "k", status, pubkeyFingerprint: SPEC_ED25519.fingerprint, now: NOW });
  for (const role of roles) await createRoleRepository(temp.store.db).grant("known", role, NOW);
}

describe("createSshPrincipalAuthenticator", () => {
  it("admits the principal holding the key's fingerprint, with its roles", async () => {
    await seed("approved", ["member"]);
    expect(await authenticator("disabled").authenticate(METADATA)).toMatchObject({ id: "known", roles: ["member"], isAnonymous: false });
  });

  it("disabled: unknown key is UNAUTHENTICATED 'unknown public key' and nothing is stored", async () => {
    expect(await failure(authenticator("disabled").authenticate(METADATA))).toEqual({ code: "UNAUTHENTICATED", message: "unknown public key" });
    expect(await createPrincipalRepository(temp.store.db).countExcludingAnonymous()).toBe(0);
  });

  it("approved: creates an approved agent named after the fingerprint and proceeds as it", async () => {
    const principal = await authenticator("approved").authenticate(METADATA);
    expect(principal).toMatchObject({ id: "00000000-0000-4000-8000-000000000001", type: "agent", displayName: "agent-8349cad6", roles: [] });
    expect(await createPrincipalRepository(temp.store.db).findByFingerprint(SPEC_ED25519.fingerprint)).toMatchObject({ status: "approved" });
  });

  it("pending: creates a pending agent and refuses with its id, then with the normal pending text", async () => {
    const auth = authenticator("pending");
    expect(await failure(auth.authenticate(METADATA))).toEqual({
      code: "PERMISSION_DENIED",
      message: "agent registered with pending status (principal_id: 00000000-0000-4000-8000-000000000001) - admin approval required",
    });
    // The same signed values are now a replay; a fresh authenticator has an empty replay cache. The domain refuses
    // with the stable reason and its HTTP wording; the gRPC edge words it "… - admin approval required" from the
    // reason (rpc/status-map.ts, checked end to end by the auth matrix).
    const again = authenticator("pending").authenticate(METADATA);
    await expect(again).rejects.toMatchObject({ reason: "principal_pending" });
    expect(await failure(again)).toEqual({ code: "PERMISSION_DENIED", message: "principal status is pending" });
  });

  it("runs the signature checks first (a replay is refused before any lookup)", async () => {
    await seed("revoked");
    const auth = authenticator("disabled");
    expect(await failure(auth.authenticate(METADATA))).toEqual({ code: "PERMISSION_DENIED", message: "principal has been revoked" });
    expect(await failure(auth.authenticate(METADATA))).toEqual({
      code: "UNAUTHENTICATED",
      message: "SSH auth failed: nonce already used (possible replay attack)",
    });
  });

  it("reports store failures as INTERNAL with the spec's prefixes", async () => {
    await sql`CREATE TRIGGER no_principals BEFORE INSERT ON principals BEGIN SELECT RAISE(ABORT, 'disk full'); END`.execute(temp.store.db);
    const created = await failure(authenticator("approved").authenticate(METADATA));
    expect(created.code).toBe("INTERNAL");
    expect(created.message).toMatch(/^failed to auto-create principal: .*disk full/);
    await sql`ALTER TABLE principals RENAME TO principals_gone`.execute(temp.store.db);
    const lookup = await failure(authenticator("disabled").authenticate(METADATA));
    expect(lookup.code).toBe("INTERNAL");
    expect(lookup.message).toMatch(/^failed to lookup principal: .*no such table/);
  });
});
