// ABOUTME: Tests the secret repository against a real migrated database: global/per-agent overlay, upsert
// ABOUTME: per scope, create conflicts, key and value validation, update, delete and list order.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isGatewayError } from "../../src/lib/gateway-error.js";
import { createSecretRepository, type SecretRepository } from "../../src/store/secret-repository.js";
import { openTempDatabase, type TempDatabase } from "./temp-database.js";

let temp: TempDatabase;
let secrets: SecretRepository;

beforeEach(async () => {
  temp = await openTempDatabase();
  secrets = createSecretRepository(temp.store.db);
});

afterEach(async () => {
  await temp.cleanup();
});

const T1 = "2025-03-01T10:00:00.000Z";
const T2 = "2025-03-01T11:00:00.000Z";

describe("secret repository", () => {
  it("overlays an agent's rows on the global rows", async () => {
    await secrets.upsert({ key: "API_KEY", value: "global-key", createdBy: "cli", now: T1 });
    await secrets.upsert({ key: "REGION", value: "eu", agentId: null, createdBy: "cli", now: T1 });
    await secrets.upsert({ key: "API_KEY", value: "agent-key", agentId: "agent-1", createdBy: "cli", now: T1 });
    await secrets.upsert({ key: "ONLY_ONE", value: "x", agentId: "agent-1", createdBy: "cli", now: T1 });
    await secrets.upsert({ key: "OTHER", value: "y", agentId: "agent-2", createdBy: "cli", now: T1 });

    expect(await secrets.effectiveSecrets("agent-1")).toEqual({ API_KEY: "agent-key", REGION: "eu", ONLY_ONE: "x" });
    expect(await secrets.effectiveSecrets("agent-2")).toEqual({ API_KEY: "global-key", REGION: "eu", OTHER: "y" });
    expect(await secrets.effectiveSecrets("agent-3")).toEqual({ API_KEY: "global-key", REGION: "eu" });
  });

  it("upsert creates once per (key, scope), then updates value and updated_at only", async () => {
    const first = await secrets.upsert({ key: "TOKEN", value: "v1", createdBy: "webadmin:u1", now: T1 });
    expect(first.created).toBe(true);
    expect(first.secret).toMatchObject({ key: "TOKEN", value: "v1", agentId: undefined, createdAt: T1, updatedAt: T1, createdBy: "webadmin:u1" });

    const second = await secrets.upsert({ key: "TOKEN", value: "v2", agentId: "", createdBy: "cli", now: T2 });
    expect(second.created).toBe(false);
    expect(second.secret).toEqual({ ...first.secret, value: "v2", updatedAt: T2 });

    const scoped = await secrets.upsert({ key: "TOKEN", value: "v3", agentId: "agent-1", createdBy: "cli", now: T2 });
    expect(scoped.created).toBe(true);
    const again = await secrets.upsert({ key: "TOKEN", value: "v4", agentId: "agent-1", createdBy: "cli", now: T2 });
    expect(again).toEqual({ created: false, secret: { ...scoped.secret, value: "v4" } });
    expect((await secrets.list()).length).toBe(2);
  });

  it("insert refuses a (key, scope) that is taken", async () => {
    expect(await secrets.insert({ key: "K", value: "1", createdBy: null, now: T1 })).toBeDefined();
    expect(await secrets.insert({ key: "K", value: "2", createdBy: null, now: T1 })).toBeUndefined();
    expect(await secrets.insert({ key: "K", value: "3", agentId: "a", createdBy: null, now: T1 })).toBeDefined();
    expect(await secrets.insert({ key: "K", value: "4", agentId: "a", createdBy: null, now: T1 })).toBeUndefined();
    expect((await secrets.list()).map((s) => s.value)).toEqual(["1", "3"]);
  });

  it("validates the key pattern and length and the value size", async () => {
    const keyMessage =
      "Key must be a valid environment variable name (letters, digits, underscores, starting with letter or underscore)";
    for (const key of ["", "1ABC", "A-B", "A B", "x".repeat(257)]) {
      const err = await secrets.upsert({ key, value: "v", createdBy: null, now: T1 }).catch((e: unknown) => e);
      expect(isGatewayError(err, "INVALID_ARGUMENT"), key).toBe(true);
      expect((err as Error).message).toBe(keyMessage);
    }
    expect((await secrets.upsert({ key: "_" + "x".repeat(255), value: "v", createdBy: null, now: T1 })).created).toBe(true);

    const tooBig = "é".repeat(32769); // 65538 UTF-8 bytes, fewer characters than that
    const err = await secrets.insert({ key: "BIG", value: tooBig, createdBy: null, now: T1 }).catch((e: unknown) => e);
    expect(isGatewayError(err, "INVALID_ARGUMENT")).toBe(true);
    expect((err as Error).message).toBe("Value exceeds maximum length (64KB)");
    expect(await secrets.insert({ key: "BIG", value: "x".repeat(65536), createdBy: null, now: T1 })).toBeDefined();
    expect(await secrets.findById("nope")).toBeUndefined();
  });

  it("updates a value by id, validating it, and deletes by id", async () => {
    const secret = await secrets.insert({ key: "K", value: "1", createdBy: null, now: T1 });
    const id = secret?.id ?? "";
    expect(await secrets.updateValue(id, "2", T2)).toMatchObject({ value: "2", updatedAt: T2, createdAt: T1 });
    await expect(secrets.updateValue(id, "x".repeat(65537), T2)).rejects.toThrow("Value exceeds maximum length (64KB)");
    expect((await secrets.findById(id))?.value).toBe("2");
    expect(await secrets.updateValue("missing", "v", T2)).toBeUndefined();
    expect(await secrets.delete(id)).toBe(true);
    expect(await secrets.delete(id)).toBe(false);
    expect(await secrets.findById(id)).toBeUndefined();
  });

  it("lists by key, then global before agent scopes", async () => {
    await secrets.insert({ key: "B", value: "b-agent-z", agentId: "z", createdBy: null, now: T1 });
    await secrets.insert({ key: "B", value: "b-agent-a", agentId: "a", createdBy: null, now: T1 });
    await secrets.insert({ key: "B", value: "b-global", createdBy: null, now: T1 });
    await secrets.insert({ key: "A", value: "a-global", createdBy: null, now: T1 });
    expect((await secrets.list()).map((s) => s.value)).toEqual(["a-global", "b-global", "b-agent-a", "b-agent-z"]);
  });
});
