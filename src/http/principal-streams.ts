// ABOUTME: Which open SSE send streams each caller principal owns, so revoking or deleting that principal ends
// ABOUTME: them at once with the exact terminal text of http-api.md §10.4 (auth.md §14).
/** Why a principal's live sessions end (IdentityService.onPrincipalRemoved). */
export type PrincipalRemovalReason = "revoked" | "deleted";

/** The `error` text a removed principal's send streams end with. */
export const PRINCIPAL_REMOVAL_TEXT: Readonly<Record<PrincipalRemovalReason, string>> = Object.freeze({
  revoked: "principal has been revoked",
  deleted: "principal not found",
});

/** The cancel reason of a request whose caller was revoked or deleted (agent-stream.md §10). */
export const PRINCIPAL_REVOKED_REASON = "principal_revoked";

/** A stream that can be ended because its owner was removed. */
export interface PrincipalBoundStream {
  /** Writes the terminal `error` `{"error": text}`, ends the stream and cancels its request; idempotent. */
  endForRemovedPrincipal(text: string): void;
}

/** The registry of send streams by owning principal. One per HTTP app; the composition root feeds it removals. */
export class PrincipalStreams {
  #byPrincipal = new Map<string, Set<PrincipalBoundStream>>();

  /** Tracks `stream` as owned by `principalId`; returns the function that stops tracking it. */
  track(principalId: string, stream: PrincipalBoundStream): () => void {
    let streams = this.#byPrincipal.get(principalId);
    if (streams === undefined) {
      streams = new Set();
      this.#byPrincipal.set(principalId, streams);
    }
    streams.add(stream);
    return () => {
      const current = this.#byPrincipal.get(principalId);
      if (current === undefined) return;
      current.delete(stream);
      if (current.size === 0) this.#byPrincipal.delete(principalId);
    };
  }

  /** Number of tracked streams of `principalId`. */
  countOf(principalId: string): number {
    return this.#byPrincipal.get(principalId)?.size ?? 0;
  }

  /**
   * Ends every tracked stream of `principalId` with the terminal text for `reason` (their requests are canceled
   * with reason `principal_revoked`). Returns how many streams were ended.
   */
  closePrincipal(principalId: string, reason: PrincipalRemovalReason): number {
    const streams = this.#byPrincipal.get(principalId);
    if (streams === undefined) return 0;
    this.#byPrincipal.delete(principalId);
    for (const stream of streams) stream.endForRemovedPrincipal(PRINCIPAL_REMOVAL_TEXT[reason]);
    return streams.size;
  }
}
