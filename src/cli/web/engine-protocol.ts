import type { EventName } from '../../shared/api/contract.js';
import type { Result } from '../../shared/api/dispatch.js';
import type { ErrorData } from '../../shared/errors.js';

/**
 * Messages between `firebackup ui`'s server process and the engine process it forks
 * (engine-host.ts ⇄ engine-child.ts). The hop is a transport, not an API: calls carry a
 * contract method and its raw input, answers carry the dispatcher's Result.
 */
export type ToEngine =
  | { type: 'call'; id: number; method: string; input: unknown }
  | { type: 'subscribe'; event: EventName }
  | { type: 'unsubscribe'; event: EventName }
  /** Cancel running jobs (nothing partial is kept), close the catalog, exit. */
  | { type: 'stop'; reason: string };

export type FromEngine =
  | { type: 'ready' }
  | { type: 'failed'; error: ErrorData }
  | { type: 'result'; id: number; result: Result<unknown> }
  | { type: 'event'; event: EventName; payload: unknown }
  | { type: 'log'; message: string }
  | { type: 'stopped'; cancelled: number };

/** What the child needs to open the same runtime the other commands open. */
export interface EngineChildOptions {
  keyFile?: string;
  keyStore?: string;
}
