// ABOUTME: Maintenance mode (ops.md §5) through real listeners: the admin route and its checks, refused sends on HTTP and
// ABOUTME: gRPC with exact texts and retry hints, duplicates still answered, readiness, the audit row and a restart.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/store/audit-repository.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, tokenFor } from "../support/identity-fixtures.js";
import { clientServiceClient, covenControlClient, ThirdPartyAgentStream, type ServerFrame } from "../support/proto-client.js";
import { postSse } from "../support/sse-client.js";
import { parseExposition, valueOf } from "../support/prom-text.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function echoAgent(gw: TestGateway, agentId: string): Promise<void> {
  const client = covenControlClient(gw.grpcAddr);
  cleanups.push(() => client.close());
  const stream = new ThirdPartyAgentStream(client as never);
  stream.call.on("data", (frame: ServerFrame) => {
    if (frame.payload !== "send_message") return;
    const id = (frame.send_message as Record<string, unknown>).request_id as string;
    stream.respond(id, { done: { full_response: "ok" } });
  });
  stream.call.on("error", () => {});
  stream.register(agentId);
  await stream.next("welcome");
  cleanups.push(() => stream.cancel());
}

const post = (gw: TestGateway, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gw.httpUrl}/api/admin/maintenance`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("POST/GET /api/admin/maintenance", () => {
  it("checks in order: 405, admin gate, invalid JSON, enabled required, message length", async () => {
    const gw = await startAuthGateway();
    cleanups.push(() => gw.stop());
    const member = await seedPrincipal(gw.gateway.store.db, { roles: ["member"] });
    const admin = await seedPrincipal(gw.gateway.store.db, { roles: ["admin"] });
    const as = async (id: string) => ({ authorization: `Bearer ${await tokenFor(id)}` });
    const del = await fetch(`${gw.httpUrl}/api/admin/maintenance`, { method: "DELETE", headers: await as(admin) });
    expect([del.status, await del.text()]).toEqual([405, ""]);
    const denied = await post(gw, { enabled: true }, await as(member));
    expect([denied.status, await denied.json()]).toEqual([403, { error: "admin role required" }]);
    const answers = [
      ["{", 400, "invalid JSON body"],
      [{}, 400, "enabled is required"],
      [{ enabled: true, message: "x".repeat(201) }, 400, "message exceeds 200 characters"],
    ] as const;
    for (const [body, status, error] of answers) {
      const res = await post(gw, body, await as(admin));
      expect([res.status, await res.json()]).toEqual([status, { error }]);
    }
    // Any authenticated principal may read the state.
    const read = await fetch(`${gw.httpUrl}/api/admin/maintenance`, { headers: await as(member) });
    expect([read.status, await read.json()]).toEqual([200, { enabled: false, message: "", since: null }]);
  });

  it("refuses new sends on HTTP and gRPC, answers duplicates, reports readiness, and survives a restart", async () => {
    const gw = await startTestGateway();
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : gw.stop()));
    await echoAgent(gw, "m-agent");
    const first = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "m-agent", sender: "a", content: "hi" }, { headers: { "idempotency-key": "k1" } });
    expect(first.status).toBe(200);

    const on = await post(gw, { enabled: true });
    const state = (await on.json()) as { enabled: boolean; message: string; since: string };
    expect(state).toMatchObject({ enabled: true, message: "the gateway is in maintenance" });
    expect(Number.isNaN(Date.parse(state.since))).toBe(false);
    const again = (await (await post(gw, { enabled: true, message: "upgrading" })).json()) as typeof state;
    expect(again).toEqual({ enabled: true, message: "upgrading", since: state.since });

    const refused = await fetch(`${gw.httpUrl}/api/send`, { method: "POST", body: JSON.stringify({ agent_id: "m-agent", sender: "a", content: "new" }) });
    expect([refused.status, await refused.text(), refused.headers.get("retry-after")]).toEqual([503, '{"error":"maintenance: upgrading"}\n', "60"]);
    const leader = await fetch(`${gw.httpUrl}/api/agents/m-agent/send`, { method: "POST", body: JSON.stringify({ message: "x" }) });
    expect([leader.status, await leader.text()]).toEqual([503, '{"error":"maintenance: upgrading"}\n']);
    const duplicate = await fetch(`${gw.httpUrl}/api/send`, {
      method: "POST",
      headers: { "idempotency-key": "k1" },
      body: JSON.stringify({ agent_id: "m-agent", sender: "a", content: "hi" }),
    });
    expect(duplicate.status).toBe(200);
    expect(((await duplicate.json()) as { status: string }).status).toBe("duplicate");

    const client = clientServiceClient(gw.grpcAddr);
    cleanups.push(() => client.close());
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      (client.SendMessage as (r: object, cb: (e: grpc.ServiceError | null) => void) => void).call(
        client,
        { conversation_key: "m-agent", content: "x", idempotency_key: "g1" },
        resolve,
      ),
    );
    expect([err?.code, err?.details, err?.metadata.get("retry-after-ms")]).toEqual([grpc.status.UNAVAILABLE, "maintenance: upgrading", ["60000"]]);

    const ready = await fetch(`${gw.httpUrl}/health/ready`);
    expect([ready.status, await ready.text()]).toEqual([503, "maintenance"]);
    // Reads keep working.
    expect((await fetch(`${gw.httpUrl}/api/agents`)).status).toBe(200);
    const metrics = parseExposition(await (await fetch(`${gw.httpUrl}/metrics`)).text());
    expect(valueOf(metrics, "coven_maintenance")).toBe(1);
    const audit = await createAuditRepository(gw.gateway.store.db).list({ action: "set_maintenance", limit: 10 });
    expect(audit.map((a) => [a.actor, a.targetType, a.targetId, a.detailJson])).toEqual([
      ["anonymous", "gateway", "maintenance", '{"enabled":true,"message":"upgrading"}'],
      ["anonymous", "gateway", "maintenance", '{"enabled":true,"message":"the gateway is in maintenance"}'],
    ]);

    const dir = gw.dir;
    stopped = true;
    await gw.gateway.stop();
    const restarted = await startTestGateway({ dir });
    cleanups.push(() => restarted.stop());
    const persisted = await fetch(`${restarted.httpUrl}/api/admin/maintenance`);
    expect(await persisted.json()).toEqual({ enabled: true, message: "upgrading", since: state.since });
    const off = await post(restarted, { enabled: false, message: "ignored" });
    expect(await off.json()).toEqual({ enabled: false, message: "", since: null });
    expect((await fetch(`${restarted.httpUrl}/health/ready`)).status).toBe(503); // no agents, not maintenance
    expect(await (await fetch(`${restarted.httpUrl}/health/ready`)).text()).toBe("no agents connected");
  });
});
