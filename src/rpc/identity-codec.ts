// ABOUTME: Converts the identity RPCs' protobuf messages to the identity service's inputs and results back.
// ABOUTME: Unset optional proto fields stay undefined; int64 TTLs become numbers (clamped, never NaN).
import { create } from "@bufbuild/protobuf";
import type { CreatePrincipalInput, Me, PrincipalView } from "../auth/identity-service.js";
import { isoTimestamp } from "../lib/clock.js";
import * as pb from "../gen/coven_pb.js";

/** A stored principal as `coven.Principal` (`pubkey_fp` unset for key-less principals). */
export function encodePrincipal(view: PrincipalView): pb.Principal {
  return create(pb.PrincipalSchema, {
    id: view.id,
    type: view.type,
    displayName: view.displayName,
    status: view.status,
    pubkeyFp: view.pubkeyFingerprint,
    createdAt: view.createdAt,
    roles: view.roles,
  });
}

/** `CreatePrincipalRequest` → the service input. */
export function decodeCreatePrincipal(request: pb.CreatePrincipalRequest): CreatePrincipalInput {
  return {
    type: request.type,
    displayName: request.displayName,
    pubkey: request.pubkey,
    pubkeyFp: request.pubkeyFp,
    roles: [...request.roles],
  };
}

/** `ttl_seconds` (int64) as a number: values beyond the safe range saturate, keeping their sign. */
export function decodeTtlSeconds(ttl: bigint): number {
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (ttl > limit) return Number.MAX_SAFE_INTEGER;
  if (ttl < -limit) return -Number.MAX_SAFE_INTEGER;
  return Number(ttl);
}

export function encodeCreateTokenResponse(minted: { token: string; expiresAt: Date }): pb.CreateTokenResponse {
  return create(pb.CreateTokenResponseSchema, { token: minted.token, expiresAt: isoTimestamp(minted.expiresAt) });
}

export function encodeMe(me: Me): pb.MeResponse {
  return create(pb.MeResponseSchema, {
    principalId: me.principalId,
    principalType: me.principalType,
    displayName: me.displayName,
    status: me.status,
    roles: me.roles,
  });
}
