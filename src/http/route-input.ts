// ABOUTME: Small readers for path and query input shared by the routes: id segments and single query values.
// ABOUTME: They mirror the reference's net/http reading (first value wins, empty means absent).
import type { FastifyRequest } from "fastify";

/** True when a path id segment is usable: non-empty, no `/`, no `..`. */
export function isValidIdSegment(id: string): boolean {
  return id !== "" && !id.includes("/") && !id.includes("..");
}

/** The first value of query parameter `name`; undefined when absent or empty. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const query = request.query as Record<string, string | string[] | undefined> | undefined;
  const raw = query?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined || value === "" ? undefined : value;
}

/** The decoded remainder of a wildcard route (`/api/agents/*`). */
export function wildcardParam(request: FastifyRequest): string {
  const params = request.params as Record<string, string | undefined> | undefined;
  return params?.["*"] ?? "";
}

/** The `{id}` part of `<id>/<suffix>` (empty for a bare `<suffix>`), or undefined when the suffix differs. */
export function idBeforeSuffix(rest: string, suffix: string): string | undefined {
  if (rest === suffix) return "";
  return rest.endsWith(`/${suffix}`) ? rest.slice(0, rest.length - suffix.length - 1) : undefined;
}
