import type { z } from 'zod';
import { AppError, isAppError, toErrorData, type ErrorData } from '../errors.js';
import { isAllowed, type Caller } from '../rbac.js';
import { contract, type Contract, type MethodName, type MethodOutput } from './contract.js';

/** What crosses every boundary: a value, or an error as data (checked by `code`). */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

export type Handlers = {
  [M in MethodName]: (
    input: z.output<Contract[M]['input']>,
    caller: Caller,
  ) => Promise<MethodOutput<M>>;
};

/**
 * The one generic handler every transport uses (IPC, HTTP, tests): it rejects unknown
 * methods, validates the input with the method's schema, checks the caller's permission,
 * runs the handler, and returns its value or its error as data — never a stack.
 */
export function createDispatcher(handlers: Handlers) {
  return async function dispatch(
    method: string,
    rawInput: unknown,
    caller: Caller,
  ): Promise<Result<unknown>> {
    try {
      if (!Object.hasOwn(contract, method)) {
        throw new AppError('INVALID_ARGUMENT', `Unknown method "${method}".`);
      }
      const name = method as MethodName;
      const definition = contract[name];
      const parsed = definition.input.safeParse(rawInput ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues
          .map((i) => `${i.path.join('.') || 'input'}: ${i.message}`)
          .join('; ');
        throw new AppError('INVALID_ARGUMENT', `Invalid input for ${method}: ${issues}.`);
      }
      if (!isAllowed(caller, definition.permission)) {
        throw new AppError(
          'PERMISSION_DENIED',
          `Your role does not allow ${definition.permission.replace(':', ' ')} (${method}).`,
        );
      }
      const handler = handlers[name] as (input: unknown, caller: Caller) => Promise<unknown>;
      return { ok: true, value: await handler(parsed.data, caller) };
    } catch (error) {
      if (isAppError(error)) return { ok: false, error: toErrorData(error) };
      // An unexpected error's text may hold paths or values from deep inside; across a
      // boundary only its kind goes (the process's own log keeps the rest).
      const kind = error instanceof Error ? error.name : typeof error;
      return {
        ok: false,
        error: toErrorData(
          new AppError(
            'INTERNAL',
            `An unexpected error (${kind}) stopped ${method}. Try again, and report it if it persists.`,
          ),
        ),
      };
    }
  };
}
