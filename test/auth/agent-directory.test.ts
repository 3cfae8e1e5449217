// ABOUTME: Tests the agent directory over a real SQLite file: the Welcome's merged secrets and the leader grant.
// ABOUTME: Per-agent secrets override global ones; other agents' secrets never leak.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAgentDirectoryService } from "../../src/auth/agent-directory.js";
import { createPrincipalRepository, type PrincipalRepository } from "../../src/store/principal-repository.js";
import { createRoleRepository } from "../../src/store/role-repository.js";
import { createSecretRepository } from "../../src/store/secret-repository.js";
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

describe("createAgentDirectoryService", () => {
  it("merges global and per-agent secrets and grants leader idempotently (never to anonymous)", async () => {
    const secrets = createSecretRepository(temp.store.db);
    const now = "2025-05-01T10:00:00.000Z";
    await secrets.insert({ key: "A", value: "global", createdBy: "cli", now });
    await secrets.insert({ key: "A", value: "agent", agentId: "x", createdBy: "cli", now });
    await secrets.insert({ key: "B", value: "y-only", agentId: "y", createdBy: "cli", now });
    const directory = createAgentDirectoryService({ db: temp.store.db, clock });
    expect(await directory.effectiveSecrets("x")).toEqual({ A: "agent" });
    expect(await directory.effectiveSecrets("z")).toEqual({ A: "global" });
    await seed("p1");
    await directory.grantLeader("p1");
    await directory.grantLeader("p1");
    expect(await createRoleRepository(temp.store.db).rolesOf("p1")).toEqual(["leader"]);
    await directory.grantLeader("anonymous");
    expect(await createRoleRepository(temp.store.db).rolesOf("anonymous")).toEqual([]);
  });
});
