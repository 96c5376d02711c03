import { expect } from 'vitest';

/** The value of a dispatcher result, asserting it is `ok` (the error is printed when not). */
export function okValue<T>(result: unknown): T {
  expect(result).toMatchObject({ ok: true });
  return (result as { value: T }).value;
}
