// ABOUTME: Tests the identity startup steps of store.md §9 over a real SQLite file: anonymous ensured (no-auth)
// ABOUTME: or revoked (auth on), and every online principal reset to offline.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareIdentityStore } from "../../src/auth/identity-startup.js";
import { createPrincipalRepository, type PrincipalRepository } from "../../src/store/principal-repository.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import { createManualClock, openTempDatabase, type TempDatabase } from "../store/temp-database.js";

let temp: TempDatabase;
let principals: PrincipalRepository;
const clock = createManualClock("2025-05-01T10:00:00.000Z");

beforeEach(async () => {
  temp = await openTempDatabase();
  principals = createPrincipalRepository(temp.store.db);
});

afterEach(async () => {
  await temp.cleanup();
});

async function seed(id: string, status: "approved" | "online" = "approved") {
  await principals.insert({ id, type: "agent", displayName: id, status, now: "2025-01-01T00:00:00.000Z" });
}

describe("prepareIdentityStore", () => {
  it("no-auth: ensures anonymous with role admin; auth on: revokes it; both reset online to offline", async () => {
    await seed("on", "online");
    await prepareIdentityStore({ db: temp.store.db, isAuthEnabled: false, clock });
    expect(await principals.findById("anonymous")).toMatchObject({ type: "client", status: "approved" });
    expect(await createRoleRepository(temp.store.db).rolesOf("anonymous")).toEqual(["admin"]);
    expect((await principals.findById("on"))?.status).toBe("offline");
    await principals.markOnline("on", "2025-05-01T10:00:00.000Z");
    await prepareIdentityStore({ db: temp.store.db, isAuthEnabled: true, clock });
    expect((await principals.findById("anonymous"))?.status).toBe("revoked");
    expect((await principals.findById("on"))?.status).toBe("offline");
  });
});

