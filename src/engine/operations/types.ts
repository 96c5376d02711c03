import type { ProgressListener } from '../../shared/progress.js';

/** What every long operation takes besides its own options. */
export interface OperationContext {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}
