/**
 * The verdict on an organisation's audit hash chain: what the server's verifyChain finds
 * (src/server/audit.ts) and what GET …/audit/verify answers, read by `firebackup audit
 * verify`. Shared so the CLI reads the wire format without importing server code.
 */
export interface VerifyResult {
  ok: boolean;
  entries: number;
  /** The first sequence number where the chain breaks, and why. */
  brokenAt?: number;
  reason?: string;
  /** Entries up to this sequence number were removed by retention (the chain starts after). */
  prunedThrough?: number;
  /**
   * Committed entries the linker has not chained yet (it runs just after each audited
   * request and every few seconds). They are not part of what was verified; present only
   * when there are some.
   */
  pending?: number;
}
