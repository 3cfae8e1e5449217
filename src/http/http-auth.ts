// ABOUTME: The single authentication hook point of the JWT routes: an HttpAuthenticator turns the request into a
// ABOUTME: principal that handlers read from the request. No-auth mode plugs in the built-in anonymous admin.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatewayError } from "../lib/gateway-error.js";

/** The caller of a JWT route. */
export interface HttpPrincipal {
  id: string;
  isAnonymous: boolean;
  roles: readonly string[];
}

/**
 * Authenticates one API request. Throws GatewayError UNAUTHENTICATED (401) / PERMISSION_DENIED (403) with the
 * spec's exact message (http-api.md §2), or HttpError for a route-specific status such as 500 `unknown principal
 * status`.
 */
export interface HttpAuthenticator {
  authenticate(request: { authorization: string | undefined; ip: string }): Promise<HttpPrincipal>;
}

const ANONYMOUS: HttpPrincipal = Object.freeze({ id: "anonymous", isAnonymous: true, roles: Object.freeze(["admin"]) });

/** No-auth mode: every caller is the built-in `anonymous` principal with the role `admin`. */
export const anonymousHttpAuthenticator: HttpAuthenticator = {
  authenticate: async () => ANONYMOUS,
};

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on JWT routes; null on public routes. */
    principal: HttpPrincipal | null;
  }
}

/** Declares `request.principal` (null until the auth hook runs). Call once on the root instance. */
export function decoratePrincipal(app: FastifyInstance): void {
  app.decorateRequest("principal", null);
}

/**
 * Adds the auth hook to `scope` (an encapsulated plugin holding only JWT routes). It runs on every request of the
 * scope before routing-specific checks, and stores the principal on the request. Errors go to the error handler.
 */
export function addAuthHook(scope: FastifyInstance, authenticator: HttpAuthenticator): void {
  scope.addHook("onRequest", async (request) => {
    request.principal = await authenticator.authenticate({ authorization: request.headers.authorization, ip: request.ip });
  });
}

/** The authenticated caller of a JWT route. Throws GatewayError INTERNAL if the auth hook did not run. */
export function principalOf(request: FastifyRequest): HttpPrincipal {
  if (request.principal === null) throw new GatewayError("INTERNAL", "route served without the auth hook");
  return request.principal;
}
