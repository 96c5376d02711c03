import type { ProgressListener } from '../../shared/progress.js';

/** What every long operation takes besides its own options. */
export interface OperationContext {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** A line worth telling the user that is not an error (e.g. what a check could not cover). */
  onNotice?: (message: string) => void;
}
