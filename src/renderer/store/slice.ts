import type { StoreApi } from 'zustand/vanilla';
import type { Client } from '../../shared/api/client.js';
import type { MethodInput, MethodName, MethodOutput } from '../../shared/api/contract.js';
import type { ErrorData } from '../../shared/errors.js';
import type { AppState } from './index.js';

/**
 * What a slice's creator is given. Each slice owns one key of the store (`projects`,
 * `jobs`…) and sees its own part through `get`/`set`; `root` reads the whole state for
 * the rare cross-slice read. Only actions talk to the client.
 */
export interface SliceContext<S> {
  client: Client;
  get(): S;
  set(patch: Partial<S> | ((s: S) => Partial<S>)): void;
  root(): AppState;
}

export type SliceCreator<S> = (ctx: SliceContext<S>) => S;

/** Builds the context of the slice at `key` over the whole store. */
export function sliceContext<K extends keyof AppState>(
  store: StoreApi<AppState>,
  key: K,
  client: Client,
): SliceContext<AppState[K]> {
  return {
    client,
    get: () => store.getState()[key],
    set: (patch) =>
      store.setState((state) => {
        const current = state[key];
        const next = typeof patch === 'function' ? patch(current) : patch;
        return { [key]: { ...current, ...next } } as unknown as Partial<AppState>;
      }),
    root: () => store.getState(),
  };
}

/**
 * An error as it crossed the boundary, as <ErrorNotice> shows it. Job and run errors carry
 * the code as a plain string (they may come from a newer engine), so this is looser than
 * ErrorData.
 */
export interface ShownError {
  code: string;
  message: string;
  retryable: boolean;
}

/**
 * Data a screen loads: what it holds, whether a load is under way, and the last error
 * (as data: message + what to do, shown with <ErrorNotice>).
 */
export interface Loadable<T> {
  value: T;
  loading: boolean;
  error: ErrorData | null;
}

export const loadable = <T>(value: T): Loadable<T> => ({ value, loading: false, error: null });

/**
 * Calls a contract method and hands back its value, or records its error and returns
 * undefined: the one way actions call the engine, so every failure reaches the screen.
 */
export async function callInto<M extends MethodName>(
  client: Client,
  method: M,
  input: MethodInput<M>,
  onError: (error: ErrorData) => void,
): Promise<MethodOutput<M> | undefined> {
  const result = await client.call(method, input);
  if (result.ok) return result.value;
  onError(result.error);
  return undefined;
}
