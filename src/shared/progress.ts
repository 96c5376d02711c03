/** Progress of a long operation, pushed to every front end (CLI stderr, GUI, tray). */
export interface Progress {
  /** What is happening now: "reading", "writing", "verifying", "uploading", "done"… */
  phase: string;
  /** Items done in this phase (documents, records). */
  items: number;
  /** What the items are, plural and short ("docs", "users", "objects"); "docs" when unset. */
  unit?: string;
  /** Items expected, when known; drives the ETA. */
  itemsTotal?: number;
  /** Bytes done (plaintext read for backups, archive bytes for restores/verifies). */
  bytes: number;
  /** Items per second, averaged over the phase. */
  itemsPerSecond: number;
  bytesPerSecond: number;
  /** Seconds left, when a total is known. */
  etaSeconds?: number;
}

export type ProgressListener = (progress: Progress) => void;
