import type { Handlers } from '../../../shared/api/dispatch.js';
import type { Runtime } from '../../jobs/runtime.js';
import type { Keyring } from '../../keys/keyring.js';

/** What every domain's handlers work over: the runtime (catalog, jobs, scheduler) and the keys. */
export interface HandlerContext {
  runtime: Runtime;
  keyring: Keyring;
}

/** The handlers of some of the contract's methods (one domain's). */
export type HandlersFor<M extends keyof Handlers> = Pick<Handlers, M>;
