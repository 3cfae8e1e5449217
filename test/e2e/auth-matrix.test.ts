// ABOUTME: The auth matrix: every HTTP route and every served RPC, called on a real auth-on gateway with each kind of
// ABOUTME: credential, checked against auth.md / http-api.md §2-3 / services.md; plus the no-auth sweep (anonymous admin).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwtService } from "../../src/auth/jwt.js";
import { startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { seedPrincipal, startAuthGateway, TEST_JWT_SECRET, tokenFor } from "../support/identity-fixtures.js";
import { callUnary, loadCovenPackage, ThirdPartyAgentStream } from "../support/proto-client.js";

// ---------------------------------------------------------------------------------------------------------------
// Credentials (columns). A credential either fails authentication the same way everywhere, or authenticates as a
// principal with `roles`, whose cell then depends on the route's gate.
// ---------------------------------------------------------------------------------------------------------------

type HttpOutcome = "pass" | { status: number; error: string };
type RpcOutcome = "pass" | { code: string; details: string };

interface Credential {
  name: string;
  /** Fails authentication with these answers; undefined when it authenticates. */
  refusal?: { http: HttpOutcome; grpc: RpcOutcome };
  roles?: readonly string[];
}

const unauthenticated = (http: string, grpcDetails: string) => ({
  http: { status: 401, error: http },
  grpc: { code: "UNAUTHENTICATED", details: grpcDetails },
});
const REVOKED = { http: { status: 403, error: "principal has been revoked" }, grpc: { code: "PERMISSION_DENIED", details: "principal has been revoked" } };

const CREDENTIALS: readonly Credential[] = [
  { name: "no token", refusal: unauthenticated("missing authorization header", "missing authorization header") },
  { name: "wrong scheme", refusal: unauthenticated("invalid authorization header format", "invalid authorization header format") },
  { name: "bad token", refusal: unauthenticated("invalid token", "invalid or expired token") },
  { name: "expired", refusal: unauthenticated("invalid token", "invalid or expired token") },
  { name: "unknown principal", refusal: unauthenticated("principal not found", "principal not found") },
  {
    name: "pending",
    refusal: {
      http: { status: 403, error: "principal status is pending" },
      grpc: { code: "PERMISSION_DENIED", details: "principal status is pending - admin approval required" },
    },
  },
  { name: "revoked", refusal: REVOKED },
  { name: "anonymous (revoked with auth on)", refusal: REVOKED },
  { name: "no role", roles: [] },
  { name: "member", roles: ["member"] },
  { name: "admin", roles: ["admin"] },
  { name: "owner", roles: ["owner"] },
];

const isAdmin = (roles: readonly string[]) => roles.includes("admin") || roles.includes("owner");
const isMember = (roles: readonly string[]) => isAdmin(roles) || roles.includes("member");

// ---------------------------------------------------------------------------------------------------------------
// HTTP routes (rows): http-api.md §3. Bodies are chosen so an authorized call answers quickly (usually a 400).
// ---------------------------------------------------------------------------------------------------------------

type HttpGate = "public" | "jwt" | "admin";

interface HttpRoute {
  method: string;
  path: string;
  gate: HttpGate;
  body?: unknown;
}

const THREAD = "7b0e8d2e-3c4f-4a5b-9c6d-7e8f9a0b1c2d";
const HTTP_ROUTES: readonly HttpRoute[] = [
  { method: "GET", path: "/health", gate: "public" },
  { method: "GET", path: "/health/ready", gate: "public" },
  { method: "GET", path: "/api/health/stream", gate: "public" },
  { method: "POST", path: "/api/link/request", gate: "public", body: { fingerprint: "ab".repeat(32), device_name: "matrix" } },
  { method: "GET", path: "/api/link/status/NOPE22", gate: "public" },
  { method: "GET", path: "/api/agents", gate: "jwt" },
  { method: "POST", path: "/api/send", gate: "jwt", body: {} },
  { method: "POST", path: "/api/agents/someone/send", gate: "jwt", body: {} },
  { method: "GET", path: "/api/agents/someone/history", gate: "jwt" },
  { method: "GET", path: "/api/bindings", gate: "jwt" },
  { method: "POST", path: "/api/bindings", gate: "admin", body: {} },
  { method: "DELETE", path: "/api/bindings", gate: "admin" },
  { method: "GET", path: "/api/threads", gate: "jwt" },
  { method: "GET", path: `/api/threads/${THREAD}/messages`, gate: "jwt" },
  { method: "GET", path: `/api/threads/${THREAD}/usage`, gate: "jwt" },
  { method: "GET", path: "/api/stats/usage", gate: "jwt" },
  { method: "POST", path: "/api/tools/approve", gate: "jwt", body: {} },
  { method: "GET", path: "/api/tools/pending", gate: "jwt" },
  { method: "POST", path: "/api/questions/answer", gate: "jwt", body: {} },
  { method: "GET", path: "/api/questions/pending", gate: "jwt" },
  { method: "POST", path: "/api/requests/no-such-request/cancel", gate: "jwt" },
];

function expectedHttp(route: HttpRoute, credential: Credential): HttpOutcome {
  if (route.gate === "public") return "pass";
  if (credential.refusal) return credential.refusal.http;
  if (route.gate === "admin" && !isAdmin(credential.roles ?? [])) return { status: 403, error: "admin role required" };
  return "pass";
}

/** Calls a route; an SSE answer is dropped once its headers arrived. Auth failures become their status and error. */
async function httpCall(baseUrl: string, route: HttpRoute, authorization: string | undefined): Promise<HttpOutcome> {
  const controller = new AbortController();
  const response = await fetch(baseUrl + route.path, {
    method: route.method,
    headers: authorization === undefined ? {} : { authorization },
    body: route.body === undefined ? undefined : JSON.stringify(route.body),
    signal: controller.signal,
  });
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    controller.abort();
    return response.status === 200 ? "pass" : { status: response.status, error: "unexpected SSE status" };
  }
  const body = await response.text();
  const isRefused = [401, 403, 429, 500].includes(response.status) || body === "404 page not found\n";
  if (!isRefused) return "pass";
  let error = body;
  try {
    error = (JSON.parse(body) as { error: string }).error;
  } catch {
    // Not JSON: keep the raw text so the mismatch shows what came back.
  }
  return { status: response.status, error };
}

// ---------------------------------------------------------------------------------------------------------------
// RPCs (rows): every method of the coven services and coven.gateway.v1 (services.md, auth.md §9).
// ---------------------------------------------------------------------------------------------------------------

type RpcGate = "any" | "admin" | "member:agents" | "member:clients";
type RpcKind = "unary" | "server-stream" | "agent-stream";

interface Rpc {
  service: string;
  method: string;
  kind: RpcKind;
  gate: RpcGate;
  request?: object;
}

const RPCS: readonly Rpc[] = [
  { service: "CovenControl", method: "AgentStream", kind: "agent-stream", gate: "any" },
  ...["ListBindings", "CreateBinding", "UpdateBinding", "DeleteBinding", "CreateToken", "ListPrincipals", "CreatePrincipal", "DeletePrincipal"].map(
    (method): Rpc => ({ service: "AdminService", method, kind: "unary", gate: "admin" }),
  ),
  ...["GetEvents", "GetMe", "SendMessage", "ListAgents", "ApproveTool", "AnswerQuestion"].map(
    (method): Rpc => ({ service: "ClientService", method, kind: "unary", gate: "any" }),
  ),
  { service: "ClientService", method: "StreamEvents", kind: "server-stream", gate: "any" },
  { service: "ClientService", method: "RegisterAgent", kind: "unary", gate: "member:agents" },
  { service: "ClientService", method: "RegisterClient", kind: "unary", gate: "member:clients" },
  { service: "GatewayService", method: "Inject", kind: "unary", gate: "admin" },
  { service: "GatewayService", method: "CancelRequest", kind: "unary", gate: "admin" },
  { service: "GatewayService", method: "ListAgentStates", kind: "unary", gate: "any" },
  // ops.md §5: reading the switch needs authentication only; setting it is admin-gated (an empty request turns it off).
  { service: "GatewayService", method: "GetMaintenance", kind: "unary", gate: "any" },
  { service: "GatewayService", method: "SetMaintenance", kind: "unary", gate: "admin" },
  // packs-mcp.md §2.1: any authenticated principal past the status gate; no role check. The empty manifest is refused
  // with INVALID_ARGUMENT only after auth passed, so an authorized call answers at once.
  { service: "PackService", method: "Register", kind: "server-stream", gate: "any" },
  { service: "PackService", method: "ToolResult", kind: "unary", gate: "any" },
];

function expectedRpc(rpc: Rpc, credential: Credential): RpcOutcome {
  if (credential.refusal) return credential.refusal.grpc;
  const roles = credential.roles ?? [];
  if (rpc.gate === "admin" && !isAdmin(roles)) return { code: "PERMISSION_DENIED", details: "admin role required" };
  if (rpc.gate === "member:agents" && !isMember(roles)) return { code: "PERMISSION_DENIED", details: "member role required to register agents" };
  if (rpc.gate === "member:clients" && !isMember(roles)) return { code: "PERMISSION_DENIED", details: "member role required to register clients" };
  return "pass";
}

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
type ClientCtor = new (address: string, credentials: grpc.ChannelCredentials) => AnyClient;

const PROTO_ROOT = fileURLToPath(new URL("../../proto", import.meta.url));

/** Client constructors of every coven service and of coven.gateway.v1.GatewayService. */
function serviceConstructors(): Record<string, ClientCtor & { service: grpc.ServiceDefinition }> {
  const coven = loadCovenPackage() as unknown as Record<string, ClientCtor & { service: grpc.ServiceDefinition }>;
  const v1Definition = protoLoader.loadSync(`${PROTO_ROOT}/coven/gateway/v1/gateway.proto`, {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const v1 = grpc.loadPackageDefinition(v1Definition) as unknown as {
    coven: { gateway: { v1: { GatewayService: ClientCtor & { service: grpc.ServiceDefinition } } } };
  };
  return {
    CovenControl: coven.CovenControl!,
    AdminService: coven.AdminService!,
    ClientService: coven.ClientService!,
    PackService: coven.PackService!,
    GatewayService: v1.coven.gateway.v1.GatewayService,
  };
}

function metadataFor(authorization: string | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (authorization !== undefined) metadata.set("authorization", authorization);
  return metadata;
}

const REFUSAL_CODES = new Set([grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNIMPLEMENTED, grpc.status.INTERNAL]);

function rpcOutcomeOf(code: grpc.status, details: string): RpcOutcome {
  return REFUSAL_CODES.has(code) ? { code: grpc.status[code], details } : "pass";
}

let agentCounter = 0;

/** Calls one RPC with `authorization`; an auth refusal becomes its code and details, anything else "pass". */
async function rpcCall(client: AnyClient, rpc: Rpc, authorization: string | undefined): Promise<RpcOutcome> {
  const metadata = metadataFor(authorization);
  if (rpc.kind === "unary") {
    const outcome = await callUnary(client, rpc.method, rpc.request ?? {}, metadata);
    return rpcOutcomeOf(outcome.code, outcome.ok ? "" : outcome.details);
  }
  if (rpc.kind === "server-stream") {
    return new Promise((resolve) => {
      const call = (client[rpc.method] as (req: object, md: grpc.Metadata) => grpc.ClientReadableStream<unknown>).call(client, rpc.request ?? {}, metadata);
      const timer = setTimeout(() => {
        resolve("pass");
        call.cancel();
      }, 3_000);
      call.on("data", () => {
        clearTimeout(timer);
        resolve("pass");
        call.cancel();
      });
      call.on("error", () => {});
      call.on("status", (status: grpc.StatusObject) => {
        clearTimeout(timer);
        resolve(rpcOutcomeOf(status.code, status.details));
      });
    });
  }
  const stream = new ThirdPartyAgentStream(client, metadata);
  stream.call.on("error", () => {});
  agentCounter += 1;
  stream.register(`matrix-agent-${agentCounter}`);
  const outcome = await Promise.race([
    stream.next("welcome").then((): RpcOutcome => "pass"),
    stream.status.then((status) => rpcOutcomeOf(status.code, status.details)),
  ]);
  stream.cancel();
  return outcome;
}

// ---------------------------------------------------------------------------------------------------------------
// The auth-on gateway, its principals and one Authorization value per credential.
// ---------------------------------------------------------------------------------------------------------------

let gw: TestGateway;
let dir: string;
const authorizations = new Map<string, string | undefined>();
const clients = new Map<string, AnyClient>();

beforeAll(async () => {
  // A database first used without auth holds the `anonymous` row, which auth-on startup revokes (auth.md §11).
  dir = mkdtempSync(join(tmpdir(), "coven-matrix-"));
  await (await startTestGateway({ dir })).stop();
  // Loopback is exempt so the matrix's own refusals do not lock the test out (the lockout has its own tests).
  gw = await startAuthGateway({ dir, lockout: { exemptLoopback: true } });
  const db = gw.gateway.store.db;
  const bearer = (token: string) => `Bearer ${token}`;
  const expiredJwt = createJwtService({ secret: TEST_JWT_SECRET, clock: { now: () => new Date(Date.now() - 2 * 3600_000) } });
  const foreignJwt = createJwtService({ secret: "an-entirely-different-secret-of-32+-bytes" });
  const approved = await seedPrincipal(db, { roles: ["member"] });
  authorizations.set("no token", undefined);
  authorizations.set("wrong scheme", "Basic bWF0cml4OnBhc3N3b3Jk");
  authorizations.set("bad token", bearer((await foreignJwt.mint(approved, 3600)).token));
  authorizations.set("expired", bearer((await expiredJwt.mint(approved, 60)).token));
  authorizations.set("unknown principal", bearer(await tokenFor("0d3c9c7e-1111-4222-8333-944455556666")));
  authorizations.set("pending", bearer(await tokenFor(await seedPrincipal(db, { status: "pending", roles: ["admin"] }))));
  authorizations.set("revoked", bearer(await tokenFor(await seedPrincipal(db, { status: "revoked", roles: ["admin"] }))));
  authorizations.set("anonymous (revoked with auth on)", bearer(await tokenFor("anonymous")));
  for (const credential of CREDENTIALS.filter((c) => c.roles !== undefined)) {
    const id = await seedPrincipal(db, { roles: [...(credential.roles as never[])] });
    authorizations.set(credential.name, bearer(await tokenFor(id)));
  }
  for (const [name, Ctor] of Object.entries(serviceConstructors())) clients.set(name, new Ctor(gw.grpcAddr, grpc.credentials.createInsecure()));
});

afterAll(async () => {
  for (const client of clients.values()) client.close();
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One row: the credential name -> outcome, for a readable diff on mismatch. */
async function row<T>(cell: (credential: Credential) => Promise<T>): Promise<Record<string, T>> {
  const outcomes = await Promise.all(CREDENTIALS.map(async (credential) => [credential.name, await cell(credential)] as const));
  return Object.fromEntries(outcomes);
}

function expectedRow<T>(cell: (credential: Credential) => T): Record<string, T> {
  return Object.fromEntries(CREDENTIALS.map((credential) => [credential.name, cell(credential)]));
}

describe("HTTP auth matrix (auth on)", () => {
  it.each(HTTP_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))("%s", async (_name, route) => {
    const actual = await row((credential) => httpCall(gw.httpUrl, route, authorizations.get(credential.name)));
    expect(actual).toEqual(expectedRow((credential) => expectedHttp(route, credential)));
  });

  it("answers the public routes with their own bodies, no token needed", async () => {
    const health = await fetch(`${gw.httpUrl}/health`);
    expect([health.status, await health.text()]).toEqual([200, "OK"]);
    const ready = await fetch(`${gw.httpUrl}/health/ready`);
    expect([ready.status, await ready.text()]).toEqual([503, "no agents connected"]);
    const link = await fetch(`${gw.httpUrl}/api/link/request`, { method: "POST", body: JSON.stringify({ fingerprint: "cd".repeat(32), device_name: "x" }) });
    expect(link.status).toBe(200);
    const { code } = (await link.json()) as { code: string };
    const status = await fetch(`${gw.httpUrl}/api/link/status/${code}`);
    expect([status.status, await status.text()]).toEqual([200, '{"status":"pending"}\n']);
  });
});

describe("gRPC auth matrix (auth on)", () => {
  it("covers every method of every served service", async () => {
    const constructors = serviceConstructors();
    const packProbe = await callUnary(clients.get("PackService")!, "ToolResult", {}, metadataFor(undefined));
    const served = Object.keys(constructors).filter((name) => name !== "PackService" || packProbe.code !== grpc.status.UNIMPLEMENTED);
    const expected = served.flatMap((service) => Object.keys(constructors[service]!.service).map((method) => `${service}/${method}`));
    expect(expected.length).toBeGreaterThan(20);
    expect(RPCS.map((rpc) => `${rpc.service}/${rpc.method}`).sort()).toEqual(expected.sort());
  });

  it.each(RPCS.map((rpc) => [`${rpc.service}/${rpc.method}`, rpc] as const))("%s", async (_name, rpc) => {
    const client = clients.get(rpc.service)!;
    const actual = await row((credential) => rpcCall(client, rpc, authorizations.get(credential.name)));
    expect(actual).toEqual(expectedRow((credential) => expectedRpc(rpc, credential)));
  });
});

describe("no-auth mode", () => {
  let open: TestGateway;
  const openClients = new Map<string, AnyClient>();

  beforeAll(async () => {
    open = await startTestGateway();
    for (const [name, Ctor] of Object.entries(serviceConstructors())) openClients.set(name, new Ctor(open.grpcAddr, grpc.credentials.createInsecure()));
  });

  afterAll(async () => {
    for (const client of openClients.values()) client.close();
    await open?.stop();
  });

  it("answers every HTTP route as the anonymous admin, with or without credentials", async () => {
    for (const authorization of [undefined, "Bearer not-a-token", "Basic eDp5"]) {
      const outcomes = await Promise.all(HTTP_ROUTES.map(async (route) => [`${route.method} ${route.path}`, await httpCall(open.httpUrl, route, authorization)]));
      expect(Object.fromEntries(outcomes)).toEqual(Object.fromEntries(HTTP_ROUTES.map((route) => [`${route.method} ${route.path}`, "pass"])));
    }
  });

  it("passes every RPC's auth and gates as the anonymous admin", async () => {
    const outcomes = await Promise.all(RPCS.map(async (rpc) => [`${rpc.service}/${rpc.method}`, await rpcCall(openClients.get(rpc.service)!, rpc, "Bearer junk")]));
    expect(Object.fromEntries(outcomes)).toEqual(Object.fromEntries(RPCS.map((rpc) => [`${rpc.service}/${rpc.method}`, "pass"])));
    const me = await callUnary(openClients.get("ClientService")!, "GetMe", {});
    expect(me.response).toMatchObject({ principal_id: "anonymous", principal_type: "client", roles: ["admin"] });
  });
});
