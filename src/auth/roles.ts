// ABOUTME: The role rules every edge shares: which roles pass the admin gate (auth.md §9, http-api.md §2) and the
// ABOUTME: one check that refuses everyone else, so gRPC, HTTP, MCP and the web admin cannot drift apart.
import { GatewayError } from "../lib/gateway-error.js";

/** The roles that pass the admin gate. */
export const ADMIN_ROLES: readonly string[] = Object.freeze(["admin", "owner"]);

/** True when `roles` hold any of `wanted`. */
export function hasAnyRole(roles: readonly string[], wanted: readonly string[]): boolean {
  return roles.some((role) => wanted.includes(role));
}

/** True when `roles` pass the admin gate (`admin` or `owner`). */
export function isAdmin(roles: readonly string[]): boolean {
  return hasAnyRole(roles, ADMIN_ROLES);
}

/** The admin gate. Throws GatewayError PERMISSION_DENIED `admin role required` unless the roles hold `admin` or `owner`. */
export function requireAdmin<P extends { readonly roles: readonly string[] }>(principal: P): P {
  if (!isAdmin(principal.roles)) throw new GatewayError("PERMISSION_DENIED", "admin role required");
  return principal;
}
