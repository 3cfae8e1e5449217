// ABOUTME: Renders a gRPC failure as `<STATUS_NAME>: <detail>` the way the CLIs print it (cli.md §1.2).
// ABOUTME: Status names are the canonical gRPC code names (UNAUTHENTICATED, ALREADY_EXISTS, …).
import { ConnectError } from "@connectrpc/connect";

const NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
  "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

/** The status name and the server's detail text of any error thrown by a connect call. */
export function grpcFailure(err: unknown): { status: string; detail: string } {
  const ce = ConnectError.from(err);
  return { status: NAMES[ce.code] ?? "UNKNOWN", detail: ce.rawMessage };
}
