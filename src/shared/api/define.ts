import { z } from 'zod';
import type { Action } from '../rbac.js';

/**
 * One method of the contract: its input and output schemas, the permission it needs and
 * what it does. Methods are grouped by domain in ./methods/ and listed once in contract.ts.
 */
export interface MethodDefinition<
  I extends z.ZodTypeAny = z.ZodTypeAny,
  O extends z.ZodTypeAny = z.ZodTypeAny,
> {
  input: I;
  output: O;
  permission: Action;
  description: string;
}

export function method<I extends z.ZodTypeAny, O extends z.ZodTypeAny>(
  d: MethodDefinition<I, O>,
): MethodDefinition<I, O> {
  return d;
}

/** A catalog id (project, destination, schedule, job) as methods accept it. */
export const entityId = z.string().min(1).max(200);
