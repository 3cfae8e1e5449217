// ABOUTME: Builds the HTTP edge over the domain: the fastify app, its authenticator and the per-principal send streams.
// ABOUTME: Ends a removed principal's send streams; the composition root listens and closes it.
import type { FastifyInstance } from "fastify";
import type { GatewayConfig } from "../config/types.js";
import { createAddressRateLimiter } from "../http/address-rate-limiter.js";
import { createBindingLookup } from "../conversation/binding-lookup.js";
import { buildHttpApp } from "../http/http-app.js";
import { anonymousHttpAuthenticator, type HttpAuthenticator } from "../http/http-auth.js";
import { createJwtHttpAuthenticator } from "../http/jwt-http-authenticator.js";
import { PrincipalStreams } from "../http/principal-streams.js";
import { SseRegistry } from "../http/sse-channel.js";
import type { Clock } from "../lib/clock.js";
import type { IdSource } from "../lib/ids.js";
import type { Logger } from "../lib/logger.js";
import { createBindingRepository } from "../store/binding-repository.js";
import type { GatewayDomain } from "./create-domain.js";

/** The HTTP app (not listening) over `domain`; `auth` replaces the JWT (or, auth off, anonymous) authenticator. */
export function buildGatewayHttp(options: {
  domain: GatewayDomain;
  config: GatewayConfig;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  auth?: HttpAuthenticator;
  isShuttingDown: () => boolean;
}): FastifyInstance {
  const { domain, config, log } = options;
  const { identity } = domain;
  const principalStreams = new PrincipalStreams();
  identity.service.onPrincipalRemoved(({ principalId, reason }) => principalStreams.closePrincipal(principalId, reason));
  return buildHttpApp({
    agents: domain.agents,
    conversations: domain.conversations,
    ledger: domain.ledger,
    usage: domain.usage,
    log,
    clock: options.clock,
    ids: options.ids,
    bindingService: domain.bindings,
    threads: domain.threads,
    bindings: createBindingLookup({ agents: domain.agents, bindings: createBindingRepository(domain.db) }),
    idempotency: domain.idempotency,
    approvals: domain.approvals,
    questions: domain.questions,
    trustProxy: config.server.trustProxy,
    limits: config.limits,
    auth: domain.ops.meterHttpAuth(
      options.auth ??
        (identity.isAuthEnabled
          ? createJwtHttpAuthenticator({ resolver: identity.resolver, lockout: identity.lockout, log })
          : anonymousHttpAuthenticator),
      identity.isAuthEnabled ? identity.lockout : undefined,
    ),
    principalStreams,
    links: domain.links,
    linkRateLimiter: createAddressRateLimiter({ clock: options.clock }),
    sseRegistry: new SseRegistry(),
    pairing: domain.pairing,
    lockout: identity.isAuthEnabled ? identity.lockout : undefined,
    lifecycle: { isShuttingDown: options.isShuttingDown },
    ops: domain.ops.http,
  });
}
