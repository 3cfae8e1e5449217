// ABOUTME: Tests principal presence over a real SQLite file: online/offline, throttled last_seen,
// ABOUTME: queued writes in call order, and pending/revoked/anonymous left alone.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPresenceService, type PresenceService } from "../../src/auth/presence.js";
import { createPrincipalRepository, type PrincipalRepository } from "../../src/store/principal-repository.js";
import { createManualClock, openTempDatabase, type ManualClock, type TempDatabase } from "../store/temp-database.js";

let temp: TempDatabase;
let principals: PrincipalRepository;
let clock: ManualClock;
let presence: PresenceService;

beforeEach(async () => {
  temp = await openTempDatabase();
  principals = createPrincipalRepository(temp.store.db);
  clock = createManualClock("2025-05-01T10:00:00.000Z");
  presence = createPresenceService({ db: temp.store.db, clock });
});

afterEach(async () => {
  await temp.cleanup();
});

async function seed(id: string, status: "approved" | "pending" | "revoked" | "online" | "offline" = "approved") {
  await principals.insert({ id, type: "agent", displayName: id, status, now: "2025-01-01T00:00:00.000Z" });
}

describe("createPresenceService", () => {
  it("goes online with last_seen on the first stream and offline with last_seen after the last", async () => {
    await seed("p1");
    presence.streamOpened("p1");
    await presence.flush();
    expect(await principals.findById("p1")).toMatchObject({ status: "online", lastSeen: "2025-05-01T10:00:00.000Z" });
    clock.set("2025-05-01T10:05:00.000Z");
    presence.streamClosed("p1");
    await presence.flush();
    expect(await principals.findById("p1")).toMatchObject({ status: "offline", lastSeen: "2025-05-01T10:05:00.000Z" });
  });

  it("applies queued writes in call order (an open and close in one tick end offline)", async () => {
    await seed("p1");
    presence.streamOpened("p1");
    presence.streamClosed("p1");
    await presence.flush();
    expect((await principals.findById("p1"))?.status).toBe("offline");
  });

  it("refreshes last_seen on frames at most once per 60 s", async () => {
    await seed("p1");
    presence.streamOpened("p1");
    clock.set("2025-05-01T10:00:30.000Z");
    presence.frameReceived("p1");
    await presence.flush();
    expect((await principals.findById("p1"))?.lastSeen).toBe("2025-05-01T10:00:00.000Z");
    clock.set("2025-05-01T10:01:00.000Z");
    presence.frameReceived("p1");
    await presence.flush();
    expect((await principals.findById("p1"))?.lastSeen).toBe("2025-05-01T10:01:00.000Z");
  });

  it("records last_seen at once when another stream of an online principal registers or ends", async () => {
    await seed("p1");
    presence.streamOpened("p1");
    clock.set("2025-05-01T10:00:05.000Z");
    presence.streamTouched("p1");
    await presence.flush();
    expect(await principals.findById("p1")).toMatchObject({ status: "online", lastSeen: "2025-05-01T10:00:05.000Z" });
  });

  it("never overwrites pending or revoked, and ignores anonymous", async () => {
    await seed("pend", "pending");
    await seed("rev", "revoked");
    await principals.ensureAnonymous(false, "2025-01-01T00:00:00.000Z");
    for (const id of ["pend", "rev", "anonymous"]) presence.streamOpened(id);
    for (const id of ["pend", "rev", "anonymous"]) presence.streamClosed(id);
    await presence.flush();
    expect((await principals.findById("pend"))?.status).toBe("pending");
    expect(await principals.findById("rev")).toMatchObject({ status: "revoked", lastSeen: "2025-05-01T10:00:00.000Z" });
    expect(await principals.findById("anonymous")).toMatchObject({ status: "approved", lastSeen: undefined });
  });
});
