// ABOUTME: HTTP identity through the whole auth-on gateway: the shared brute-force lockout, device linking from code
// ABOUTME: to token (pickup window on an injected clock), and revocation/deletion ending the caller's SSE send streams.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { createLinkService } from "../../src/auth/link-service.js";
import type { Clock } from "../../src/lib/clock.js";
import type { TestGateway } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, tokenFor, type AuthGatewayOptions } from "../support/identity-fixtures.js";
import { bearerMetadata, callUnary, clientServiceClient, covenControlClient, ThirdPartyAgentStream } from "../support/proto-client.js";
import { postSse } from "../support/sse-client.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function gateway(options: AuthGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startAuthGateway(options);
  cleanups.push(() => gw.stop());
  return gw;
}

/** A wall clock that tests can push forward. */
function shiftableClock(): Clock & { advance(ms: number): void } {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}

const bearer = async (principalId: string) => ({ authorization: `Bearer ${await tokenFor(principalId)}` });

describe("brute-force lockout over HTTP", () => {
  it("locks the address after 10 failures: 429 with Retry-After even for a valid token, also on gRPC; /health stays open", async () => {
    const gw = await gateway();
    const valid = await bearer(await seedPrincipal(gw.gateway.store.db, { roles: ["member"] }));
    for (let i = 0; i < 10; i += 1) {
      const res = await fetch(`${gw.httpUrl}/api/agents`, { headers: { authorization: "Bearer junk" } });
      expect(res.status).toBe(401);
    }
    const locked = await fetch(`${gw.httpUrl}/api/agents`, { headers: valid });
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toBe("300");
    expect(await locked.text()).toBe('{"error":"too many failed authentication attempts"}\n');
    const health = await fetch(`${gw.httpUrl}/health`);
    expect([health.status, await health.text()]).toEqual([200, "OK"]);

    const client = clientServiceClient(gw.grpcAddr);
    cleanups.push(() => client.close());
    const rpc = await callUnary(client, "GetMe", {}, bearerMetadata(valid.authorization.slice("Bearer ".length)));
    expect(rpc).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expect(rpc.ok ? "" : rpc.details).toMatch(/^too many failed authentication attempts; retry in (299|300)s$/);
    expect(gw.gateway.identity.lockout.stats().lockouts).toBe(1);
  });
});

describe("device linking through the gateway", () => {
  it("requests a code without a token, is approved by a web admin user, hands the token out for 5 minutes, then scrubs it", async () => {
    const clock = shiftableClock();
    const gw = await gateway({ clock });
    const db = gw.gateway.store.db;
    const request = await fetch(`${gw.httpUrl}/api/link/request`, {
      method: "POST",
      body: JSON.stringify({ fingerprint: "AB".repeat(32), device_name: "work laptop" }),
    });
    expect(request.status).toBe(200);
    const { code } = (await request.json()) as { code: string };
    const poll = async () => (await fetch(`${gw.httpUrl}/api/link/status/${code}`)).json() as Promise<Record<string, string>>;
    expect(await poll()).toEqual({ status: "pending" });

    await db.insertInto("admin_users").values({ id: "admin-user-1", username: "admin", password_hash: null, display_name: "Admin", created_at: new Date().toISOString() }).execute();
    const links = createLinkService({ db, jwt: gw.gateway.identity.jwt, clock });
    const { principalId } = await links.approve("webadmin:admin-user-1", code);

    const approved = await poll();
    expect(approved).toEqual({ principal_id: principalId, status: "approved", token: expect.any(String) });
    const agents = await fetch(`${gw.httpUrl}/api/agents`, { headers: { authorization: `Bearer ${approved.token}` } });
    expect(agents.status).toBe(200);
    const client = clientServiceClient(gw.grpcAddr);
    cleanups.push(() => client.close());
    const me = await callUnary(client, "GetMe", {}, bearerMetadata(approved.token));
    expect(me.response).toMatchObject({ principal_id: principalId, principal_type: "client", display_name: "work laptop", roles: ["member"] });

    clock.advance(5 * 60_000);
    expect(await poll()).toEqual({ status: "approved" });
    const row = await db.selectFrom("link_codes").select("token").where("code", "=", code).executeTakeFirstOrThrow();
    expect(row.token).toBeNull();
  });
});

describe("revocation ends the caller's SSE send streams", () => {
  async function setup(features: string[] = ["cancellation"]) {
    const gw = await gateway();
    const db = gw.gateway.store.db;
    const agentPrincipal = await seedPrincipal(db, { type: "agent" });
    const caller = await seedPrincipal(db, { roles: ["member"] });
    const admin = await seedPrincipal(db, { roles: ["admin"] });
    const control = covenControlClient(gw.grpcAddr);
    const agent = new ThirdPartyAgentStream(control, bearerMetadata(await tokenFor(agentPrincipal)));
    agent.call.on("error", () => {});
    cleanups.push(() => {
      agent.cancel();
      control.close();
    });
    agent.register("worker", { protocol_features: features });
    await agent.next("welcome");
    return { gw, agent, caller, admin };
  }

  it("revoked: the open stream ends with error 'principal has been revoked' and the agent is asked to cancel", async () => {
    const { gw, agent, caller, admin } = await setup();
    const headers = await bearer(caller);
    const res = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "worker", sender: "me", content: "long job" }, {
      headers,
      onFrame: (frame) => {
        if (frame.event === "started") void gw.gateway.identity.service.revokePrincipal("system", caller);
      },
    });
    expect(res.status).toBe(200);
    expect(res.frames.map((f) => [f.event, f.json])).toEqual([
      ["started", expect.objectContaining({ request_id: expect.any(String) })],
      ["error", { error: "principal has been revoked" }],
    ]);
    expect(res.raw.endsWith('event: error\ndata: {"error":"principal has been revoked"}\n\n')).toBe(true);

    const requestId = res.frames[0]!.json.request_id as string;
    const cancel = await agent.next("cancel_request");
    expect(cancel.cancel_request).toMatchObject({ request_id: requestId, reason: "principal_revoked" });
    agent.respond(requestId, { cancelled: { reason: "principal_revoked" } });

    const again = await fetch(`${gw.httpUrl}/api/agents`, { headers });
    expect([again.status, await again.text()]).toEqual([403, '{"error":"principal has been revoked"}\n']);
    const history = async () =>
      ((await (await fetch(`${gw.httpUrl}/api/agents/worker/history`, { headers: await bearer(admin) })).json()) as { events: Array<{ type: string; text?: string }> }).events;
    await expect.poll(async () => (await history()).map((e) => [e.type, e.text])).toEqual([
      ["message", "long job"],
      ["system", "canceled: principal_revoked"],
    ]);
  });

  it("deleted: the text is 'principal not found', and only that caller's streams end", async () => {
    const { gw, agent, caller, admin } = await setup([]);
    const callerHeaders = await bearer(caller);
    const other = postSse(`${gw.httpUrl}/api/send`, { agent_id: "worker", sender: "admin", content: "keep going" }, { headers: await bearer(admin) });
    const otherTurn = await agent.next("send_message");
    const res = await postSse(`${gw.httpUrl}/api/send`, { agent_id: "worker", sender: "me", content: "doomed" }, {
      headers: callerHeaders,
      onFrame: (frame) => {
        if (frame.event === "started") void gw.gateway.identity.service.deletePrincipal("system", caller);
      },
    });
    expect(res.frames.map((f) => [f.event, f.json])).toEqual([
      ["started", expect.anything()],
      ["error", { error: "principal not found" }],
    ]);
    expect(agent.received.some((frame) => frame.payload === "cancel_request")).toBe(false);
    const again = await fetch(`${gw.httpUrl}/api/agents`, { headers: callerHeaders });
    expect([again.status, await again.text()]).toEqual([401, '{"error":"principal not found"}\n']);
    agent.respond((otherTurn.send_message as { request_id: string }).request_id, { done: { full_response: "done for admin" } });
    const otherResult = await other;
    expect(otherResult.frames.map((f) => f.event)).toEqual(["started", "done"]);
  });
});
